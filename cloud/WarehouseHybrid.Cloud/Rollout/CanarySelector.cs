using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WarehouseHybrid.Cloud.Rollout;

/// <summary>
/// Picks canary robots deterministically from their ids: a robot's bucket is the first 4 bytes of SHA-256 of its id,
/// read as a number in [0, 1); it is a canary when the bucket is below the percentage. The same robots are picked on
/// every silo and after every restart, a larger percentage picks a superset, and no randomness is kept in state.
/// At least one canary and (below 100 %) at least one baseline robot are always picked, so there is something to compare.
/// </summary>
public static class CanarySelector
{
    /// <summary>A robot's bucket in [0, 1).</summary>
    public static double Bucket(string robotId)
    {
        ArgumentNullException.ThrowIfNull(robotId);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(robotId), hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash) / 4294967296.0;
    }

    /// <summary>Splits <paramref name="robots"/> into canary and baseline for <paramref name="percentage"/> (1-100).</summary>
    public static (string[] Canary, string[] Baseline) Split(IReadOnlyCollection<string> robots, double percentage)
    {
        ArgumentNullException.ThrowIfNull(robots);
        if (double.IsNaN(percentage) || percentage is <= 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(percentage), percentage, "percentage must be in (0, 100]");
        }

        var ordered = robots.Distinct(StringComparer.Ordinal).Select(r => (Id: r, Bucket: Bucket(r))).OrderBy(r => r.Bucket).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        var share = percentage / 100.0;
        var canaryCount = ordered.Count(r => r.Bucket < share);
        if (ordered.Count > 0)
        {
            canaryCount = Math.Max(1, canaryCount);
            if (percentage < 100 && ordered.Count > 1)
            {
                canaryCount = Math.Min(canaryCount, ordered.Count - 1);
            }
        }

        return ([.. ordered.Take(canaryCount).Select(r => r.Id)], [.. ordered.Skip(canaryCount).Select(r => r.Id)]);
    }
}
