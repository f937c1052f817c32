namespace WarehouseHybrid.Contracts.Topics;

/// <summary>
/// The MQTT topic tree of the project's own protobuf messages (docs/mqtt-topics.md).
/// Robot and site ids are restricted to <c>[A-Za-z0-9_-]{1,64}</c> so they can never inject
/// topic levels or wildcards.
/// </summary>
public static class FleetTopics
{
    /// <summary>Root of every topic of this contract version.</summary>
    public const string Root = "wh/v1";

    /// <summary>Edge to cloud: <see cref="Fleet.Telemetry"/>, QoS 1.</summary>
    public static string Telemetry(string site, string robot) => Robot(site, robot) + "/telemetry";

    /// <summary>Edge to cloud: <see cref="Fleet.RobotEvent"/>, QoS 1.</summary>
    public static string Events(string site, string robot) => Robot(site, robot) + "/events";

    /// <summary>Cloud to edge: <see cref="Fleet.PlanSegment"/>, QoS 1.</summary>
    public static string Plan(string site, string robot) => Robot(site, robot) + "/cmd/plan";

    /// <summary>Cloud to edge: <see cref="Fleet.GrantUpdate"/>, QoS 1.</summary>
    public static string Grant(string site, string robot) => Robot(site, robot) + "/cmd/grant";

    /// <summary>Cloud to edge: <see cref="Fleet.TaskAssignment"/>, QoS 1.</summary>
    public static string Task(string site, string robot) => Robot(site, robot) + "/cmd/task";

    /// <summary>Edge to cloud: <see cref="Fleet.EscalationRequest"/>, QoS 1, with an MQTT 5 response topic.</summary>
    public static string EscalationRequest(string site, string robot) => Robot(site, robot) + "/escalation/request";

    /// <summary>Cloud to edge: <see cref="Fleet.EscalationResponse"/> (the request's response topic).</summary>
    public static string EscalationResponse(string site, string robot) => Robot(site, robot) + "/cmd/escalation";

    /// <summary>Cloud to edge: <see cref="Fleet.ModelDeployment"/> (a signed model package of a rollout), QoS 1.</summary>
    public static string Model(string site, string robot) => Robot(site, robot) + "/cmd/model";

    /// <summary>Every command topic of one robot (the edge subscribes to this filter).</summary>
    public static string RobotCommandsFilter(string site, string robot) => Robot(site, robot) + "/cmd/#";

    /// <summary>Telemetry of every robot of every site (the cloud's shared subscription adds $share/group/).</summary>
    public const string AllTelemetryFilter = Root + "/+/robots/+/telemetry";

    /// <summary>Events of every robot of every site.</summary>
    public const string AllEventsFilter = Root + "/+/robots/+/events";

    /// <summary>Escalation requests of every robot of every site.</summary>
    public const string AllEscalationsFilter = Root + "/+/robots/+/escalation/request";

    /// <summary>Client to cloud: <see cref="Fleet.TaskSubmission"/>, QoS 1, with an MQTT 5 response topic under <see cref="TaskReplyPrefix"/>.</summary>
    public static string TaskSubmit(string site) => Site(site) + "/tasks/submit";

    /// <summary>Task submissions of every site.</summary>
    public const string AllTaskSubmitFilter = Root + "/+/tasks/submit";

    /// <summary>Where replies to a site's task submissions may go: <c>wh/v1/{site}/tasks/reply/</c> + a client id.</summary>
    public static string TaskReplyPrefix(string site) => Site(site) + "/tasks/reply/";

    /// <summary>Cloud to client: <see cref="Fleet.TaskSubmissionReply"/> for <paramref name="client"/> (the submission's response topic).</summary>
    public static string TaskReply(string site, string client)
    {
        if (!IsValidId(client))
        {
            throw new ArgumentException($"client id '{client}' must be 1-64 of [A-Za-z0-9_-]", nameof(client));
        }

        return TaskReplyPrefix(site) + client;
    }

    /// <summary>Parses <c>wh/v1/{site}/tasks/submit</c>.</summary>
    public static bool TryParseTaskSubmitTopic(string topic, out string site)
    {
        site = string.Empty;
        var parts = topic?.Split('/') ?? [];
        if (parts is not ["wh", "v1", var s, "tasks", "submit"] || !IsValidId(s))
        {
            return false;
        }

        site = s;
        return true;
    }

    /// <summary>Whether <paramref name="topic"/> is a reply topic of <paramref name="site"/> (the cloud publishes replies nowhere else).</summary>
    public static bool IsTaskReplyTopic(string site, string? topic) =>
        topic is not null && IsValidId(site) && topic.StartsWith(TaskReplyPrefix(site), StringComparison.Ordinal)
        && IsValidId(topic[TaskReplyPrefix(site).Length..]);

    /// <summary>An MQTT 5 shared subscription so several cloud bridges split the load.</summary>
    public static string Shared(string group, string filter) => $"$share/{group}/{filter}";

    /// <summary>
    /// Parses <c>wh/v1/{site}/robots/{robot}/...</c>; false for anything else (including ids
    /// that break the id rule).
    /// </summary>
    public static bool TryParseRobotTopic(string topic, out string site, out string robot, out string leaf)
    {
        site = robot = leaf = string.Empty;
        var parts = topic.Split('/');
        if (parts.Length < 6 || parts[0] != "wh" || parts[1] != "v1" || parts[3] != "robots")
        {
            return false;
        }

        if (!IsValidId(parts[2]) || !IsValidId(parts[4]))
        {
            return false;
        }

        for (var i = 5; i < parts.Length; i++)
        {
            // Leaves are fixed words of this contract: never empty, never a wildcard.
            if (parts[i].Length == 0 || parts[i].Contains('+', StringComparison.Ordinal) || parts[i].Contains('#', StringComparison.Ordinal))
            {
                return false;
            }
        }

        site = parts[2];
        robot = parts[4];
        leaf = string.Join('/', parts, 5, parts.Length - 5);
        return true;
    }

    /// <summary>Whether an id is 1-64 characters of letters, digits, '-' or '_'.</summary>
    public static bool IsValidId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Site(string site)
    {
        if (!IsValidId(site))
        {
            throw new ArgumentException($"site id '{site}' must be 1-64 of [A-Za-z0-9_-]", nameof(site));
        }

        return $"{Root}/{site}";
    }

    private static string Robot(string site, string robot)
    {
        if (!IsValidId(site))
        {
            throw new ArgumentException($"site id '{site}' must be 1-64 of [A-Za-z0-9_-]", nameof(site));
        }

        if (!IsValidId(robot))
        {
            throw new ArgumentException($"robot id '{robot}' must be 1-64 of [A-Za-z0-9_-]", nameof(robot));
        }

        return $"{Root}/{site}/robots/{robot}";
    }
}
