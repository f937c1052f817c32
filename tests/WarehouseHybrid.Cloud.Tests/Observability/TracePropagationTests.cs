using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using WarehouseHybrid.Cloud.Grains;
using WarehouseHybrid.Cloud.Observability;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Cloud.Tests.Observability;

/// <summary>
/// One trace from an edge telemetry record through the optimizer to the robot's plan: spans collected by
/// OpenTelemetry's in-memory exporter in a silo driven by simulated robots.
/// </summary>
public sealed class TracePropagationTests
{
    [Fact]
    public async Task A_trace_started_by_an_incoming_traceparent_reaches_the_robots_plan_publish_and_the_segment_carries_it()
    {
        var spans = new ConcurrentQueue<Activity>();
        await using var silo = await WebSilo.StartAsync(b =>
        {
            b.AddWarehouseObservability(o => o.RecordTraces = true);
            b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(new SimpleActivityExportProcessor(new QueueExporter(spans))));
        });

        // Each robot's telemetry starts a trace of its own (as the edge does).
        var sent = new ConcurrentDictionary<string, ConcurrentQueue<string>>();
        silo.Fleet.TraceParentFor = robot =>
        {
            var tp = SimulatedFleet.NewTraceParent();
            sent.GetOrAdd(robot, _ => new ConcurrentQueue<string>()).Enqueue(tp);
            return tp;
        };
        await silo.StartSiteAsync("traced", 6, WebSilo.Warehouse(27, 10));
        var site = silo.Grains.GetGrain<ISiteGrain>("traced");
        await Eventually.WaitForAsync(site.GetStatsAsync, s => s.StepsDispatched >= 3, "three planned steps");

        // Pick a published segment and find the telemetry record whose trace it continues.
        var segment = silo.Fleet.Plans.First(p => p.FirstStep >= 2);
        var planTrace = ActivityContext.Parse(segment.TraceId, null);
        var incoming = sent[segment.RobotId].Select(tp => ActivityContext.Parse(tp, null)).ToList();
        Assert.Contains(incoming, c => c.TraceId == planTrace.TraceId);
        var edgeParent = incoming.Single(c => c.TraceId == planTrace.TraceId);

        await Eventually.WaitForAsync(() => spans.Any(s => s.OperationName == CloudTracing.PlanPublish && s.TraceId == planTrace.TraceId), "the plan publish span");
        var trace = spans.Where(s => s.TraceId == planTrace.TraceId).ToList();
        var ingest = trace.Single(s => s.OperationName == CloudTracing.TelemetryIngest);
        Assert.Equal(edgeParent.SpanId, ingest.ParentSpanId);
        Assert.Equal(segment.RobotId, ingest.GetTagItem("wh.robot"));
        var publish = trace.Single(s => s.OperationName == CloudTracing.PlanPublish);
        Assert.Equal(ingest.SpanId, publish.ParentSpanId);
        Assert.Equal(publish.SpanId, planTrace.SpanId);
        Assert.Equal(segment.RobotId, publish.GetTagItem("wh.robot"));

        // The optimizer step is linked from the publish (and is in the trace of the robot that completed the round).
        var stepLink = Assert.Single(publish.Links, l => spans.Any(s => s.OperationName == CloudTracing.PlanStep && s.SpanId == l.Context.SpanId));
        var step = spans.Single(s => s.SpanId == stepLink.Context.SpanId);
        Assert.NotNull(step.GetTagItem("wh.plan.ms"));
        Assert.Contains(spans.Where(s => s.OperationName == CloudTracing.TelemetryIngest), s => s.SpanId == step.ParentSpanId);
    }

    [Fact]
    public async Task A_log_written_inside_the_ingest_span_carries_the_edges_trace_id()
    {
        var logs = new ConcurrentQueue<(int EventId, ActivityTraceId TraceId, ActivitySpanId SpanId)>();
        await using var silo = await WebSilo.StartAsync(b =>
        {
            b.AddWarehouseObservability(o => o.RecordTraces = true);
            b.Services.ConfigureOpenTelemetryLoggerProvider(l => l.AddProcessor(new SimpleLogRecordExportProcessor(new LogExporter(logs))));
        });
        await silo.StartSiteAsync("logged", 2, WebSilo.Warehouse(27, 10));

        // A robot the roster does not list: the robot grain warns (event 2001) inside its ingest span.
        var traceParent = SimulatedFleet.NewTraceParent();
        silo.Fleet.TraceParentFor = _ => traceParent;
        await silo.Fleet.ReportAsync("logged", "stranger", 0, 0, Domain.Grid.Heading.East);
        await Eventually.WaitForAsync(() => logs.Any(l => l.EventId == 2001), "the unknown-robot warning");
        var record = logs.First(l => l.EventId == 2001);
        Assert.Equal(ActivityContext.Parse(traceParent, null).TraceId, record.TraceId);
        Assert.NotEqual(default, record.SpanId);
    }

    [Fact]
    public void Outgoing_traceparents_continue_the_incoming_trace_when_no_span_is_recorded()
    {
        var incoming = CloudTracing.Parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        var outgoing = CloudTracing.Parse(CloudTracing.Outgoing(null, incoming));
        Assert.Equal(incoming.TraceId, outgoing.TraceId);
        Assert.NotEqual(incoming.SpanId, outgoing.SpanId);
        Assert.Equal(ActivityTraceFlags.Recorded, outgoing.TraceFlags);
        Assert.Equal(default, CloudTracing.Parse("not-a-traceparent"));
        Assert.Equal(default, CloudTracing.Parse(string.Empty));
        Assert.NotEqual(default, CloudTracing.Parse(CloudTracing.Outgoing(null, default)).TraceId);
    }

    private sealed class QueueExporter(ConcurrentQueue<Activity> spans) : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var a in batch)
            {
                spans.Enqueue(a);
            }

            return ExportResult.Success;
        }
    }

    // Log records are pooled by OpenTelemetry: keep copies of what the test reads.
    private sealed class LogExporter(ConcurrentQueue<(int, ActivityTraceId, ActivitySpanId)> items) : BaseExporter<LogRecord>
    {
        public override ExportResult Export(in Batch<LogRecord> batch)
        {
            foreach (var r in batch)
            {
                items.Enqueue((r.EventId.Id, r.TraceId, r.SpanId));
            }

            return ExportResult.Success;
        }
    }
}
