using Google.Protobuf;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.ModelTool.Onnx;
using WarehouseHybrid.ModelTool.Onnx.Proto;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.ModelTool.Cloud;

/// <summary>
/// Writes an ensemble of <see cref="Mlp"/>s as one ONNX graph: each member is written by <see cref="OnnxMlpWriter"/>
/// (the edge model's exporter), its names prefixed <c>m{k}_</c>, all fed by the one <c>features</c> input; then
/// Concat + ReduceMean give the mean <c>action</c> and <c>obstacle_prob</c>, and the members' disagreement is
/// <c>obstacle_std</c> = sqrt(mean(p^2) - mean(p)^2). Opset 17 (ReduceMean takes its axes as an attribute).
/// </summary>
public static class EnsembleOnnxWriter
{
    /// <summary>Name of the disagreement output [1, 2].</summary>
    public const string StdOutputName = "obstacle_std";

    /// <summary>Serializes the ensemble with <paramref name="metadata"/> as metadata_props.</summary>
    public static byte[] Write(IReadOnlyList<Mlp> members, string version, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(metadata);
        if (members.Count < 2)
        {
            throw new ArgumentException("an ensemble needs at least two members", nameof(members));
        }

        var graph = new GraphProto { Name = "warehouse_cloud_escalation" };
        ModelProto? first = null;
        for (var k = 0; k < members.Count; k++)
        {
            var member = ModelProto.Parser.ParseFrom(OnnxMlpWriter.Write(members[k], version));
            first ??= member;
            if (k == 0)
            {
                graph.Input.AddRange(member.Graph.Input);
            }

            var prefix = $"m{k}_";
            string Rename(string name) => name == PolicyFeatures.InputName ? name : prefix + name;
            foreach (var init in member.Graph.Initializer)
            {
                init.Name = Rename(init.Name);
                graph.Initializer.Add(init);
            }

            foreach (var node in member.Graph.Node)
            {
                node.Name = prefix + node.Name;
                for (var i = 0; i < node.Input.Count; i++)
                {
                    node.Input[i] = Rename(node.Input[i]);
                }

                for (var i = 0; i < node.Output.Count; i++)
                {
                    node.Output[i] = Rename(node.Output[i]);
                }

                graph.Node.Add(node);
            }
        }

        foreach (var output in first!.Graph.Output)
        {
            graph.Output.Add(output.Clone());
        }

        var std = first.Graph.Output[1].Clone();
        std.Name = StdOutputName;
        graph.Output.Add(std);

        string[] Members(string output) => [.. Enumerable.Range(0, members.Count).Select(k => $"m{k}_{output}")];
        graph.Node.Add(Node("concat_action", "Concat", Members(PolicyFeatures.ActionOutputName), ["all_action"], ("axis", 0)));
        graph.Node.Add(Node("mean_action", "ReduceMean", ["all_action"], [PolicyFeatures.ActionOutputName], ("keepdims", 1), axes: [0]));
        graph.Node.Add(Node("concat_prob", "Concat", Members(PolicyFeatures.ObstacleOutputName), ["all_prob"], ("axis", 0)));
        graph.Node.Add(Node("mean_prob", "ReduceMean", ["all_prob"], [PolicyFeatures.ObstacleOutputName], ("keepdims", 1), axes: [0]));
        graph.Node.Add(Node("square_prob", "Mul", ["all_prob", "all_prob"], ["all_prob_sq"]));
        graph.Node.Add(Node("mean_square", "ReduceMean", ["all_prob_sq"], ["mean_prob_sq"], ("keepdims", 1), axes: [0]));
        graph.Node.Add(Node("square_mean", "Mul", [PolicyFeatures.ObstacleOutputName, PolicyFeatures.ObstacleOutputName], ["prob_mean_sq"]));
        graph.Node.Add(Node("variance", "Sub", ["mean_prob_sq", "prob_mean_sq"], ["prob_var_raw"]));
        graph.Node.Add(Node("variance_floor", "Relu", ["prob_var_raw"], ["prob_var"])); // rounding may dip below 0
        graph.Node.Add(Node("std", "Sqrt", ["prob_var"], [StdOutputName]));

        var model = new ModelProto
        {
            IrVersion = OnnxMlpWriter.IrVersion,
            ProducerName = "WarehouseHybrid.ModelTool",
            ProducerVersion = version,
            Domain = "warehousehybrid.cloud",
            ModelVersion = 1,
            DocString = $"Cloud escalation model: an ensemble of {members.Count} MLPs imitating the edge rule controller with an obstacle-ahead classifier, trained with the edge's hard cases weighted up.",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = OnnxMlpWriter.Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "version", Value = version });
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model.ToByteArray();
    }

    private static NodeProto Node(string name, string op, string[] inputs, string[] outputs, (string Name, long Value)? attribute = null, (string Name, long Value)? second = null, long[]? axes = null)
    {
        var node = new NodeProto { Name = name, OpType = op };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var a in new[] { attribute, second })
        {
            if (a is { } at)
            {
                node.Attribute.Add(new AttributeProto { Name = at.Name, Type = AttributeProto.Types.AttributeType.Int, I = at.Value });
            }
        }

        if (axes is not null)
        {
            var list = new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints };
            list.Ints.AddRange(axes);
            node.Attribute.Add(list);
        }

        return node;
    }
}
