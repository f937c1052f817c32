using WarehouseHybrid.Domain.Errors;

namespace WarehouseHybrid.Domain.Tests.Support;

internal static class Located
{
    /// <summary>Asserts that <paramref name="act"/> fails with a DomainFormatException located at a file and line.</summary>
    public static DomainFormatException Throws(Action act, string fileName, int line, string detailFragment)
    {
        var ex = Assert.Throws<DomainFormatException>(act);
        Assert.Equal(fileName, Path.GetFileName(ex.File));
        Assert.Equal(line, ex.Line);
        Assert.Contains(detailFragment, ex.Detail, StringComparison.Ordinal);
        Assert.StartsWith($"{fileName} line {line}", ex.Message, StringComparison.Ordinal);
        return ex;
    }
}
