using Google.Protobuf;
using WarehouseHybrid.Edge.Inference;
using WarehouseHybrid.ModelTool.Onnx.Proto;
using WarehouseHybrid.ModelTool.Training;

namespace WarehouseHybrid.ModelTool.Onnx;

/// <summary>
/// Writes an <see cref="Mlp"/> as an ONNX model (IR version 8, opset 17): features -> Gemm -> Relu -> Gemm -> Relu,
/// then Gemm -> "action" and Gemm -> Softmax -> "obstacle_prob". Weights are initializers in raw little-endian
/// form; every attribute carries its type (ONNX Runtime rejects untyped attributes).
/// </summary>
public static class OnnxMlpWriter
{
    /// <summary>ONNX IR version written.</summary>
    public const long IrVersion = 8;

    /// <summary>Default-domain opset written.</summary>
    public const long Opset = 17;

    /// <summary>Serializes the model.</summary>
    public static byte[] Write(Mlp net, string version)
    {
        ArgumentNullException.ThrowIfNull(net);
        var graph = new GraphProto { Name = "warehouse_driving_policy" };
        graph.Input.Add(TensorValue(PolicyFeatures.InputName, 1, net.Inputs));
        graph.Output.Add(TensorValue(PolicyFeatures.ActionOutputName, 1, 2));
        graph.Output.Add(TensorValue(PolicyFeatures.ObstacleOutputName, 1, 2));
        graph.Initializer.Add(Tensor("w1", net.W1, net.Hidden1, net.Inputs));
        graph.Initializer.Add(Tensor("b1", net.B1, net.Hidden1));
        graph.Initializer.Add(Tensor("w2", net.W2, net.Hidden2, net.Hidden1));
        graph.Initializer.Add(Tensor("b2", net.B2, net.Hidden2));
        graph.Initializer.Add(Tensor("w_action", net.WAction, 2, net.Hidden2));
        graph.Initializer.Add(Tensor("b_action", net.BAction, 2));
        graph.Initializer.Add(Tensor("w_class", net.WClass, 2, net.Hidden2));
        graph.Initializer.Add(Tensor("b_class", net.BClass, 2));
        graph.Node.Add(Gemm("gemm1", PolicyFeatures.InputName, "w1", "b1", "z1"));
        graph.Node.Add(Node("relu1", "Relu", ["z1"], ["h1"]));
        graph.Node.Add(Gemm("gemm2", "h1", "w2", "b2", "z2"));
        graph.Node.Add(Node("relu2", "Relu", ["z2"], ["h2"]));
        graph.Node.Add(Gemm("gemm_action", "h2", "w_action", "b_action", PolicyFeatures.ActionOutputName));
        graph.Node.Add(Gemm("gemm_class", "h2", "w_class", "b_class", "logits"));
        var softmax = Node("softmax", "Softmax", ["logits"], [PolicyFeatures.ObstacleOutputName]);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(softmax);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "WarehouseHybrid.ModelTool",
            ProducerVersion = version,
            Domain = "warehousehybrid.edge",
            ModelVersion = 1,
            DocString = "Learned driving policy imitating the edge rule controller, with an obstacle-ahead classifier.",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "version", Value = version });
        return model.ToByteArray();
    }

    private static NodeProto Gemm(string name, string a, string b, string c, string y)
    {
        var node = Node(name, "Gemm", [a, b, c], [y]);
        node.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return node;
    }

    private static NodeProto Node(string name, string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { Name = name, OpType = op };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    private static TensorProto Tensor(string name, float[] values, params long[] dims)
    {
        var expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != values.Length)
        {
            throw new ArgumentException($"initializer '{name}' has {values.Length} values for shape [{string.Join(", ", dims)}]", nameof(values));
        }

        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static ValueInfoProto TensorValue(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
