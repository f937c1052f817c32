using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using WarehouseHybrid.Cloud.Bridge;
using WarehouseHybrid.Cloud.Hosting;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Planning.Fleet;
using WarehouseHybrid.Tests.Common.Servers;

namespace WarehouseHybrid.Benchmarks.Link;

/// <summary>
/// <c>link-ingest [--robots N] [--seconds S]</c>: telemetry through a real Mosquitto into the silo's bridge (and the
/// robot grains). Measures, in one run: (1) Mosquitto's raw rate to a plain subscriber under a flood, (2) the bridge's
/// rate under the same flood, as a ratio to (1), and (3) N simulated robots at 10 Hz for S seconds: the delivered rate
/// and the end-to-end latency (publish to the grain call's return) p50/p99.
/// </summary>
public static class LinkIngestBench
{
    private const int FloodMessages = 40_000;
    private const int Publishers = 8;

    public static async Task RunAsync(string[] args)
    {
        var robots = Arg(args, "--robots", 1000);
        var seconds = Arg(args, "--seconds", 10);
        await using var broker = new MosquittoServer { MaxQueuedMessages = 1_000_000 };
        await broker.StartAsync();
        Console.WriteLine($"Mosquitto on 127.0.0.1:{broker.Port}; load average {File.ReadAllText("/proc/loadavg").Trim()}");

        var raw = await RawRateAsync(broker.Port);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw Mosquitto QoS 1 to one subscriber: {raw:F0} msg/s"));

        var latencies = new ConcurrentQueue<long>();
        using var silo = await StartSiloAsync(broker.Port, latencies);
        var bridge = silo.Services.GetRequiredService<MqttBridge>();
        var flood = await BridgeFloodAsync(broker.Port, bridge);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bridge (decode + grain call) under the same flood: {flood:F0} msg/s = {flood / raw:F2} x raw"));

        latencies.Clear();
        var (offered, delivered) = await TenHertzAsync(broker.Port, bridge, robots, seconds);
        var sorted = latencies.Select(t => t * 1000.0 / Stopwatch.Frequency).Order().ToArray();
        double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        Console.WriteLine();
        Console.WriteLine("| scenario | offered msg/s | delivered msg/s | p50 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {robots} robots x 10 Hz, {seconds} s | {offered:F0} | {delivered:F0} | {P(0.5):F2} | {P(0.99):F2} | {(sorted.Length > 0 ? sorted[^1] : double.NaN):F1} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| flood, {FloodMessages} msgs, {Publishers} publishers | - | bridge {flood:F0} / raw {raw:F0} = {flood / raw:F2} | | | |"));
        await silo.StopAsync();
    }

    // The bench's latency route wraps the telemetry route, so the bridge counts its messages as another route's.
    private static long Routed(MqttBridge bridge) => bridge.Stats.TelemetryRouted + bridge.Stats.OtherRouted;

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static async Task<IMqttClient> ClientAsync(int port, string id)
    {
        var c = new MqttClientFactory().CreateMqttClient();
        await c.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id).WithProtocolVersion(MqttProtocolVersion.V500).Build());
        return c;
    }

    private static byte[] Record(string robot, ulong seq) =>
        new Telemetry { RobotId = robot, Seq = seq, StreamId = 1, TimestampUnixMs = Stopwatch.GetTimestamp(), Pose = new Pose { Cell = 1 }, Progress = new PlanProgress() }.ToByteArray();

    // Publishers flood, each with a window of 64 unacknowledged QoS 1 publishes.
    private static async Task FloodAsync(int port, string prefix, int messages)
    {
        var per = messages / Publishers;
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(async p =>
        {
            using var c = await ClientAsync(port, $"{prefix}-pub-{p}");
            var window = new Queue<Task>();
            for (var i = 0; i < per; i++)
            {
                var robot = $"bot-{p}-{i % 50}";
                window.Enqueue(c.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(FleetTopics.Telemetry("bench", robot))
                    .WithPayload(Record(robot, (ulong)(i / 50 + 1))).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()));
                if (window.Count >= 64)
                {
                    await window.Dequeue();
                }
            }

            await Task.WhenAll(window);
            await c.DisconnectAsync();
        }));
    }

    private static async Task<double> RawRateAsync(int port)
    {
        using var sub = await ClientAsync(port, "raw-sub");
        long received = 0;
        sub.ApplicationMessageReceivedAsync += _ =>
        {
            Interlocked.Increment(ref received);
            return Task.CompletedTask;
        };
        await sub.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(FleetTopics.AllTelemetryFilter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var total = FloodMessages / Publishers * Publishers;
        var sw = Stopwatch.StartNew();
        await FloodAsync(port, "raw", FloodMessages);
        while (Interlocked.Read(ref received) < total && sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(5);
        }

        var rate = Interlocked.Read(ref received) / sw.Elapsed.TotalSeconds;
        await sub.DisconnectAsync();
        return rate;
    }

    private static async Task<double> BridgeFloodAsync(int port, MqttBridge bridge)
    {
        var before = Routed(bridge) + bridge.Stats.RejectedFor(RejectionReason.RoutingFailed);
        var total = FloodMessages / Publishers * Publishers;
        var sw = Stopwatch.StartNew();
        await FloodAsync(port, "flood", FloodMessages);
        while (Routed(bridge) - before < total && sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(5);
        }

        return (Routed(bridge) - before) / sw.Elapsed.TotalSeconds;
    }

    // Robots spread over 20 connections (1,000 MQTT clients in one bench process would measure the bench), each
    // robot publishing every 100 ms with its phase spread over the period.
    private static async Task<(double Offered, double Delivered)> TenHertzAsync(int port, MqttBridge bridge, int robots, int seconds)
    {
        const int connections = 20;
        var before = Routed(bridge);
        long sent = 0;
        var sw = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            using var client = await ClientAsync(port, $"robots-{c}");
            var mine = Enumerable.Range(0, robots).Where(r => r % connections == c).Select(r => $"sim-{r}").ToArray();
            var seq = 0UL;
            var tick = TimeSpan.FromMilliseconds(100.0 / Math.Max(1, mine.Length));
            var next = sw.Elapsed;
            var i = 0;
            while (sw.Elapsed < end)
            {
                var robot = mine[i % mine.Length];
                if (i % mine.Length == 0)
                {
                    seq++;
                }

                _ = client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(FleetTopics.Telemetry("bench", robot)).WithPayload(Record(robot, seq))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
                Interlocked.Increment(ref sent);
                i++;
                next += tick;
                var wait = next - sw.Elapsed;
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait);
                }
            }

            await Task.Delay(500);
            await client.DisconnectAsync();
        }));
        var elapsed = sw.Elapsed.TotalSeconds;
        return (Interlocked.Read(ref sent) / end.TotalSeconds, (Routed(bridge) - before) / elapsed);
    }

    private static async Task<IHost> StartSiloAsync(int port, ConcurrentQueue<long> latencies)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        // Measures publish -> grain call returned, wrapping the real telemetry route (registered first, so it wins).
        builder.Services.AddSingleton<IBridgeRoute>(sp => new LatencyRoute(
            new TelemetryRoute(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<IOptions<MqttBridgeOptions>>()), latencies));
        builder.AddWarehouseCloud((map, starts) => new PibtFleetPlanner(map, starts.Count, new PlannerOptions()), o =>
        {
            o.Silo.SiloPort = FreeLoopbackPort();
            o.Silo.GatewayPort = FreeLoopbackPort();
            o.Silo.ClusterId = "bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            o.Mqtt.Host = "127.0.0.1";
            o.Mqtt.Port = port;
            o.Mqtt.PrimaryHostId = string.Empty;
            o.Http.Enabled = false; // a generic host: the bench measures the bridge only
        });
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<MqttBridge>().WhenConnectedAsync().WaitAsync(TimeSpan.FromSeconds(20));
        return host;
    }

    private static int FreeLoopbackPort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private sealed class LatencyRoute(TelemetryRoute inner, ConcurrentQueue<long> latencies) : IBridgeRoute
    {
        public string TopicFilter => inner.TopicFilter;

        public async ValueTask<RouteOutcome> HandleAsync(BridgeMessage message, CancellationToken cancellationToken)
        {
            var outcome = await inner.HandleAsync(message, cancellationToken);
            var sent = Telemetry.Parser.ParseFrom(message.Payload).TimestampUnixMs; // the bench puts Stopwatch ticks here
            latencies.Enqueue(Stopwatch.GetTimestamp() - sent);
            return outcome;
        }
    }
}
