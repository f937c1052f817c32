using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Sites;
using WarehouseHybrid.Cloud.Tests.Support;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Api;

/// <summary>
/// <c>POST /api/tasks</c> and <c>GET /api/tasks/{id}</c> over real HTTP against an in-process silo: valid orders run to
/// finished, every malformed submission is a 400 naming its field, idempotency keys replay and conflict.
/// </summary>
public sealed class TaskApiTests(SiloFixture silo) : IClassFixture<SiloFixture>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_submitted_task_is_queued_then_assigned_in_progress_and_finished_as_the_robots_drive()
    {
        const string site = "api-run";
        await silo.Grains.GetGrain<ISiteGrain>(site).InitializeAsync(TestMaps.Corridor(site, 2));
        using var http = silo.Client(SiloFixture.WriteKey);

        var created = await http.PostAsJsonAsync("api/tasks", new { site, errands = new object[] { 3, new { x = 5, y = 0 } }, priority = 2, reference = "order-1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var task = await ReadAsync(created);
        Assert.Equal($"/api/tasks/{task.GetProperty("id").GetString()}", created.Headers.Location?.ToString());
        Assert.Equal("queued", task.GetProperty("status").GetString());
        Assert.Equal("writer", task.GetProperty("submittedBy").GetString());
        Assert.Equal("order-1", task.GetProperty("reference").GetString());
        Assert.Equal(5, task.GetProperty("errands")[1].GetProperty("cell").GetInt32());
        var id = task.GetProperty("id").GetString()!;
        Assert.StartsWith(site + ".", id, StringComparison.Ordinal);

        // Play the robots until the task is finished, reading the status after every step.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await silo.ReportAsync(site, $"{site}-r0", 0, 0, Heading.East, 1);
        await silo.ReportAsync(site, $"{site}-r1", 0, 11, Heading.East, 1);
        await silo.DriveAsync(site, $"{site}-r0", 1, 12, async () =>
        {
            var status = (await ReadAsync(await http.GetAsync($"api/tasks/{id}"))).GetProperty("status").GetString()!;
            seen.Add(status);
            return status == "finished";
        });

        var done = await Eventually.WaitForAsync(async () => await ReadAsync(await http.GetAsync($"api/tasks/{id}")), s => s.GetProperty("status").GetString() == "finished", "the task to finish");
        Assert.Equal($"{site}-r0", done.GetProperty("robot").GetString());
        Assert.Equal(2, done.GetProperty("errandIndex").GetInt32());
        Assert.Equal(JsonValueKind.String, done.GetProperty("finishedAt").ValueKind);
        Assert.Equal(JsonValueKind.String, done.GetProperty("assignedAt").ValueKind);
        Assert.Contains("assigned", seen);
        Assert.Contains("in-progress", seen);
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        { "{\"site\": \"api-bad\", \"errands\": [1, 2", "body", "is not valid JSON" },
        { "[1, 2]", "body", "must be a JSON object" },
        { "{\"errands\": [1]}", "site", "is required" },
        { "{\"site\": \"api-bad\"}", "errands", "is required" },
        { "{\"site\": 7, \"errands\": [1]}", "site", "must be a string" },
        { "{\"site\": \"no/such\", \"errands\": [1]}", "site", "is not a site id" },
        { "{\"site\": \"never-defined\", \"errands\": [1]}", "site", "is not defined in this cluster" },
        { "{\"site\": \"api-bad\", \"errands\": []}", "errands", "at least one errand" },
        { "{\"site\": \"api-bad\", \"errands\": 4}", "errands", "must be an array" },
        { "{\"site\": \"api-bad\", \"errands\": [1, \"a\"]}", "errands[1]", "must be a cell number or an object" },
        { "{\"site\": \"api-bad\", \"errands\": [1.5]}", "errands[0]", "cell must be an integer" },
        { "{\"site\": \"api-bad\", \"errands\": [{\"x\": 1}]}", "errands[0]", "both x and y" },
        { "{\"site\": \"api-bad\", \"errands\": [{\"x\": 1, \"y\": \"2\"}]}", "errands[0].y", "must be an integer" },
        { "{\"site\": \"api-bad\", \"errands\": [{\"x\": 1, \"y\": 2, \"z\": 0}]}", "errands[0].z", "is not a field of an errand" },
        { "{\"site\": \"api-bad\", \"errands\": [400]}", "errands[0]", "cell 400 is off the 10x3 map" },
        { "{\"site\": \"api-bad\", \"errands\": [{\"x\": 10, \"y\": 0}]}", "errands[0]", "(x=10, y=0) is off the 10x3 map" },
        { "{\"site\": \"api-bad\", \"errands\": [1, {\"x\": 3, \"y\": 1}]}", "errands[1]", "(x=3, y=1) is an obstacle" },
        { "{\"site\": \"api-bad\", \"errands\": [29]}", "errands[0]", "no robot can reach" },
        { "{\"site\": \"api-bad\", \"errands\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6]}", "errands", "at most 32" },
        { "{\"site\": \"api-bad\", \"errands\": [1], \"priority\": 5000}", "priority", "must be -1000 to 1000" },
        { "{\"site\": \"api-bad\", \"errands\": [1], \"priority\": \"high\"}", "priority", "must be an integer" },
        { "{\"site\": \"api-bad\", \"errand\": [1]}", "errand", "is not a field of a task submission" },
        { "{\"site\": \"api-bad\", \"site\": \"api-bad\", \"errands\": [1]}", "site", "appears twice" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_submission_is_400_naming_the_field_and_why_and_creates_nothing(string body, string field, string why)
    {
        await DefineBadSiteAsync();
        var before = await silo.Grains.GetGrain<ISiteGrain>("api-bad").GetStatsAsync();
        using var http = silo.Client(SiloFixture.WriteKey);
        var response = await http.PostAsync("api/tasks", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await ReadAsync(response);
        var messages = problem.GetProperty("errors").GetProperty(field);
        Assert.Contains(messages.EnumerateArray(), m => m.GetString()!.Contains(why, StringComparison.Ordinal));
        Assert.Equal(before.TasksSubmitted, (await silo.Grains.GetGrain<ISiteGrain>("api-bad").GetStatsAsync()).TasksSubmitted);
    }

    [Fact]
    public async Task Every_problem_of_a_submission_is_reported_at_once()
    {
        await DefineBadSiteAsync();
        using var http = silo.Client(SiloFixture.WriteKey);
        var response = await http.PostAsync("api/tasks", Body("{\"site\": \"api-bad\", \"errands\": [400, {\"x\": 3, \"y\": 1}, 29], \"priority\": -2000}"));
        var errors = (await ReadAsync(response)).GetProperty("errors");
        Assert.Equal(["errands[0]", "errands[1]", "errands[2]", "priority"], errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task Wrong_content_type_is_415_and_an_oversized_body_is_413()
    {
        await DefineBadSiteAsync();
        using var http = silo.Client(SiloFixture.WriteKey);
        var text = await http.PostAsync("api/tasks", new StringContent("{\"site\": \"api-bad\", \"errands\": [1]}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);

        var huge = "{\"site\": \"api-bad\", \"errands\": [" + string.Join(',', Enumerable.Repeat("1", 200_000)) + "]}";
        var big = await http.PostAsync("api/tasks", Body(huge));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
    }

    [Fact]
    public async Task A_retried_submission_with_the_same_idempotency_key_returns_the_same_task_and_creates_no_second()
    {
        const string site = "api-idem";
        var grain = silo.Grains.GetGrain<ISiteGrain>(site);
        await grain.InitializeAsync(TestMaps.Corridor(site, 1));
        using var http = silo.Client(SiloFixture.WriteKey);
        const string body = "{\"site\": \"api-idem\", \"errands\": [4, 7]}";

        var first = await http.SendAsync(Keyed(body, "order-42"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var second = await http.SendAsync(Keyed(body, "order-42"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var a = await ReadAsync(first);
        var b = await ReadAsync(second);
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Equal("order-42", b.GetProperty("idempotencyKey").GetString());

        // The same key with another body: 422, naming the task the key made; nothing new.
        var other = await http.SendAsync(Keyed("{\"site\": \"api-idem\", \"errands\": [5]}", "order-42"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        var problem = await ReadAsync(other);
        Assert.Equal(a.GetProperty("id").GetString(), problem.GetProperty("taskId").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));

        // Concurrent retries of one new key: exactly one task.
        var racing = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => http.SendAsync(Keyed("{\"site\": \"api-idem\", \"errands\": [6]}", "race-1"))));
        Assert.Single(racing, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(racing, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK));
        var ids = await Task.WhenAll(racing.Select(async r => (await ReadAsync(r)).GetProperty("id").GetString()));
        Assert.Single(ids.Distinct());
        Assert.Equal(2, (await grain.GetStatsAsync()).TasksSubmitted);

        // Without a key every submission is a new task.
        await http.PostAsync("api/tasks", Body(body));
        await http.PostAsync("api/tasks", Body(body));
        Assert.Equal(4, (await grain.GetStatsAsync()).TasksSubmitted);
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    [InlineData("x")]
    public async Task A_malformed_idempotency_key_is_400(string key)
    {
        key = key == "x" ? new string('k', 256) : key;
        await DefineBadSiteAsync();
        using var http = silo.Client(SiloFixture.WriteKey);
        var request = new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = Body("{\"site\": \"api-bad\", \"errands\": [1]}") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ReadAsync(response)).GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
    }

    [Fact]
    public async Task A_task_id_that_is_malformed_is_400_and_one_never_submitted_is_404()
    {
        await DefineBadSiteAsync();
        using var http = silo.Client(SiloFixture.ReadKey);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("api/tasks/no-number")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("api/tasks/bad%20site.3")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/tasks/api-bad.999999")).StatusCode);
    }

    private async Task DefineBadSiteAsync()
    {
        // 10x3. Row 1 is a wall except x=0; in row 2, x=7 and x=8 are obstacles, so (9, 2) = cell 29 is free but walled in.
        var kinds = new CellKind[30];
        for (var x = 1; x < 10; x++)
        {
            kinds[10 + x] = CellKind.Obstacle;
        }

        kinds[27] = CellKind.Obstacle;
        kinds[28] = CellKind.Obstacle;
        var map = new GridMap(10, 3, kinds, "api-bad");
        await silo.Grains.GetGrain<ISiteGrain>("api-bad").InitializeAsync(SiteDefinition.Create(map, [new RobotSeat("api-bad-r0", 0, Heading.East)]));
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static HttpRequestMessage Keyed(string json, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = Body(json) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(), Json);
}
