namespace WarehouseHybrid.ModelTool.Training;

/// <summary>
/// The learned policy's network: two ReLU hidden layers shared by two heads, action (linear / max linear,
/// angular / max angular) and obstacle class (softmax over clear, obstacle ahead). Weights are row-major
/// [out, in], the layout ONNX Gemm reads with transB = 1. <see cref="Forward"/> is the plain C# reference
/// the ONNX graph is checked against.
/// </summary>
public sealed class Mlp
{
    /// <summary>Creates a network with weights drawn He-uniform from <paramref name="random"/>.</summary>
    public Mlp(int inputs, int hidden1, int hidden2, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Inputs = inputs;
        Hidden1 = hidden1;
        Hidden2 = hidden2;
        W1 = Init(hidden1 * inputs, inputs, random);
        B1 = new float[hidden1];
        W2 = Init(hidden2 * hidden1, hidden1, random);
        B2 = new float[hidden2];
        WAction = Init(2 * hidden2, hidden2, random);
        BAction = new float[2];
        WClass = Init(2 * hidden2, hidden2, random);
        BClass = new float[2];
    }

    /// <summary>Input width.</summary>
    public int Inputs { get; }

    /// <summary>First hidden width.</summary>
    public int Hidden1 { get; }

    /// <summary>Second hidden width.</summary>
    public int Hidden2 { get; }

    /// <summary>First layer weights [Hidden1, Inputs].</summary>
    public float[] W1 { get; }

    /// <summary>First layer bias.</summary>
    public float[] B1 { get; }

    /// <summary>Second layer weights [Hidden2, Hidden1].</summary>
    public float[] W2 { get; }

    /// <summary>Second layer bias.</summary>
    public float[] B2 { get; }

    /// <summary>Action head weights [2, Hidden2].</summary>
    public float[] WAction { get; }

    /// <summary>Action head bias.</summary>
    public float[] BAction { get; }

    /// <summary>Class head weights [2, Hidden2].</summary>
    public float[] WClass { get; }

    /// <summary>Class head bias.</summary>
    public float[] BClass { get; }

    /// <summary>Every parameter array, in a fixed order (the optimizer walks them).</summary>
    public float[][] Parameters => [W1, B1, W2, B2, WAction, BAction, WClass, BClass];

    /// <summary>Reference forward pass: writes the action (2) and class probabilities (2).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> action, Span<float> probabilities)
    {
        Span<float> h1 = stackalloc float[Hidden1];
        Span<float> h2 = stackalloc float[Hidden2];
        Span<float> logits = stackalloc float[2];
        ForwardTraining(x, h1, h2, action, logits);
        Softmax(logits, probabilities);
    }

    /// <summary>Forward pass keeping the activations (training).</summary>
    internal void ForwardTraining(ReadOnlySpan<float> x, Span<float> h1, Span<float> h2, Span<float> action, Span<float> logits)
    {
        Dense(W1, B1, x, h1, relu: true);
        Dense(W2, B2, h1, h2, relu: true);
        Dense(WAction, BAction, h2, action, relu: false);
        Dense(WClass, BClass, h2, logits, relu: false);
    }

    internal static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        var max = Math.Max(logits[0], logits[1]);
        var e0 = MathF.Exp(logits[0] - max);
        var e1 = MathF.Exp(logits[1] - max);
        var sum = e0 + e1;
        probabilities[0] = e0 / sum;
        probabilities[1] = e1 / sum;
    }

    private static void Dense(float[] w, float[] b, ReadOnlySpan<float> x, Span<float> y, bool relu)
    {
        var n = x.Length;
        for (var o = 0; o < y.Length; o++)
        {
            var s = b[o];
            var row = w.AsSpan(o * n, n);
            for (var i = 0; i < n; i++)
            {
                s += row[i] * x[i];
            }

            y[o] = relu && s < 0 ? 0 : s;
        }
    }

    private static float[] Init(int count, int fanIn, Random random)
    {
        var limit = MathF.Sqrt(6f / fanIn);
        var w = new float[count];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = ((float)random.NextDouble() * 2 - 1) * limit;
        }

        return w;
    }
}
