namespace WarehouseHybrid.ModelTool.Training;

/// <summary>Training settings.</summary>
/// <param name="Epochs">Passes over the data.</param>
/// <param name="BatchSize">Samples per Adam step.</param>
/// <param name="LearningRate">Adam step size.</param>
/// <param name="ClassWeight">Weight of the cross-entropy term against the action mean-squared error.</param>
/// <param name="Seed">Shuffling seed.</param>
public sealed record TrainerSettings(int Epochs = 30, int BatchSize = 32, float LearningRate = 2e-3f, float ClassWeight = 0.5f, int Seed = 7);

/// <summary>How well a network fits a data set.</summary>
/// <param name="ActionMae">Mean absolute error of the action outputs (fractions of the top speeds).</param>
/// <param name="ClassAccuracy">Share of samples whose obstacle class is predicted right.</param>
/// <param name="MeanConfidence">Mean of the predicted class probability.</param>
public readonly record struct FitReport(double ActionMae, double ClassAccuracy, double MeanConfidence);

/// <summary>
/// Minibatch Adam on mean-squared error (action head) plus cross-entropy (class head), with hand-written
/// back-propagation: the network is small enough that a plain loop trains it in seconds, and ML.NET has no
/// trainer for a two-headed regression + classification network that exports to a single ONNX graph.
/// Deterministic for a given seed (single-threaded float arithmetic).
/// </summary>
public static class Trainer
{
    /// <summary>Trains <paramref name="net"/> on <paramref name="data"/>.</summary>
    public static void Train(Mlp net, TrainingSet data, TrainerSettings settings, Action<int, FitReport>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        var parameters = net.Parameters;
        var grads = parameters.Select(p => new float[p.Length]).ToArray();
        var m = parameters.Select(p => new float[p.Length]).ToArray();
        var v = parameters.Select(p => new float[p.Length]).ToArray();
        var order = Enumerable.Range(0, data.Count).ToArray();
        var random = new Random(settings.Seed);
        const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        var step = 0;
        var h1 = new float[net.Hidden1];
        var h2 = new float[net.Hidden2];
        var d1 = new float[net.Hidden1];
        var d2 = new float[net.Hidden2];
        var action = new float[2];
        var logits = new float[2];
        var probs = new float[2];
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            random.Shuffle(order);
            for (var start = 0; start < order.Length; start += settings.BatchSize)
            {
                var end = Math.Min(order.Length, start + settings.BatchSize);
                foreach (var g in grads)
                {
                    Array.Clear(g);
                }

                for (var k = start; k < end; k++)
                {
                    var n = order[k];
                    var x = data.Row(n);
                    net.ForwardTraining(x, h1, h2, action, logits);
                    Mlp.Softmax(logits, probs);
                    Span<float> dAction = [action[0] - data.Targets[(n * 2) + 0], action[1] - data.Targets[(n * 2) + 1]];
                    var label = data.Labels[n];
                    Span<float> dLogits = [settings.ClassWeight * (probs[0] - (label == 0 ? 1 : 0)), settings.ClassWeight * (probs[1] - (label == 1 ? 1 : 0))];
                    Array.Clear(d2);
                    Backward(net.WAction, grads[4], grads[5], h2, dAction, d2);
                    Backward(net.WClass, grads[6], grads[7], h2, dLogits, d2);
                    for (var i = 0; i < d2.Length; i++)
                    {
                        if (h2[i] <= 0)
                        {
                            d2[i] = 0;
                        }
                    }

                    Array.Clear(d1);
                    Backward(net.W2, grads[2], grads[3], h1, d2, d1);
                    for (var i = 0; i < d1.Length; i++)
                    {
                        if (h1[i] <= 0)
                        {
                            d1[i] = 0;
                        }
                    }

                    Backward(net.W1, grads[0], grads[1], x, d1, default);
                }

                step++;
                var scale = 1f / (end - start);
                var lr = settings.LearningRate * MathF.Sqrt(1 - MathF.Pow(beta2, step)) / (1 - MathF.Pow(beta1, step));
                for (var p = 0; p < parameters.Length; p++)
                {
                    var w = parameters[p];
                    var g = grads[p];
                    var mp = m[p];
                    var vp = v[p];
                    for (var i = 0; i < w.Length; i++)
                    {
                        var gi = g[i] * scale;
                        mp[i] = (beta1 * mp[i]) + ((1 - beta1) * gi);
                        vp[i] = (beta2 * vp[i]) + ((1 - beta2) * gi * gi);
                        w[i] -= lr * mp[i] / (MathF.Sqrt(vp[i]) + eps);
                    }
                }
            }

            progress?.Invoke(epoch, Evaluate(net, data));
        }
    }

    /// <summary>Measures the fit of <paramref name="net"/> on <paramref name="data"/>.</summary>
    public static FitReport Evaluate(Mlp net, TrainingSet data)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        Span<float> action = stackalloc float[2];
        Span<float> probs = stackalloc float[2];
        double mae = 0, correct = 0, confidence = 0;
        for (var n = 0; n < data.Count; n++)
        {
            net.Forward(data.Row(n), action, probs);
            mae += Math.Abs(action[0] - data.Targets[n * 2]) + Math.Abs(action[1] - data.Targets[(n * 2) + 1]);
            var predicted = probs[1] > probs[0] ? 1 : 0;
            correct += predicted == data.Labels[n] ? 1 : 0;
            confidence += Math.Max(probs[0], probs[1]);
        }

        return new FitReport(mae / (2.0 * data.Count), correct / data.Count, confidence / data.Count);
    }

    /// <summary>Accumulates dW += dy x^T, db += dy and (when dx is not empty) dx += W^T dy.</summary>
    private static void Backward(float[] w, float[] dw, float[] db, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        var n = x.Length;
        for (var o = 0; o < dy.Length; o++)
        {
            var g = dy[o];
            db[o] += g;
            var row = w.AsSpan(o * n, n);
            var drow = dw.AsSpan(o * n, n);
            for (var i = 0; i < n; i++)
            {
                drow[i] += g * x[i];
                if (!dx.IsEmpty)
                {
                    dx[i] += g * row[i];
                }
            }
        }
    }
}
