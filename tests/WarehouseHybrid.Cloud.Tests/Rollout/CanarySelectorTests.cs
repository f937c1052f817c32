using CsCheck;
using WarehouseHybrid.Cloud.Rollout;

namespace WarehouseHybrid.Cloud.Tests.Rollout;

public sealed class CanarySelectorTests
{
    private static readonly string[] Fleet = [.. Enumerable.Range(0, 10_000).Select(i => $"robot-{i:D5}")];

    [Fact]
    public void The_selection_depends_only_on_the_robot_ids_and_is_close_to_the_percentage()
    {
        var (a, _) = CanarySelector.Split(Fleet, 10);
        var (b, _) = CanarySelector.Split([.. Fleet.Reverse()], 10);
        Assert.Equal(a.Order(StringComparer.Ordinal), b.Order(StringComparer.Ordinal));
        Assert.InRange(a.Length, 900, 1100);
    }

    [Fact]
    public void A_larger_percentage_picks_a_superset_and_every_robot_lands_on_exactly_one_side() =>
        Gen.Int[1, 99].Select(Gen.Int[1, 99]).Sample((p, q) =>
        {
            var (lo, loRest) = CanarySelector.Split(Fleet, Math.Min(p, q));
            var (hi, _) = CanarySelector.Split(Fleet, Math.Max(p, q));
            return lo.All(new HashSet<string>(hi, StringComparer.Ordinal).Contains)
                && lo.Length + loRest.Length == Fleet.Length
                && !lo.Intersect(loRest, StringComparer.Ordinal).Any();
        }, iter: 40);

    [Fact]
    public void Small_fleets_always_get_one_canary_and_keep_one_robot_to_compare_with()
    {
        var (canary, baseline) = CanarySelector.Split(["a", "b"], 1);
        Assert.Single(canary);
        Assert.Single(baseline);
        (canary, baseline) = CanarySelector.Split(["a", "b", "c"], 99);
        Assert.Equal(2, canary.Length);
        Assert.Single(baseline);
        Assert.Throws<ArgumentOutOfRangeException>(() => CanarySelector.Split(["a"], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CanarySelector.Split(["a"], double.NaN));
    }
}
