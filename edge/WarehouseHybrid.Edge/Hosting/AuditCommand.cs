using System.Globalization;
using WarehouseHybrid.Edge.Audit;

namespace WarehouseHybrid.Edge.Hosting;

/// <summary>
/// <c>WarehouseHybrid.Edge audit verify [dir] [--anchor SEQ:HASH]</c>: verifies the hash chain of an audit directory
/// (default: the daemon's, <c>$STATE_DIRECTORY/audit</c> or /var/lib/warehouse-edge/audit). Prints what it checked, the
/// head (seq and hash, an anchor to keep elsewhere) and any warnings; exits 0 when the chain verifies, 1 naming the
/// first bad record, 2 on bad arguments or an unreadable directory.
/// </summary>
public static class AuditCommand
{
    /// <summary>Runs the command (arguments after "audit"); returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, Func<string, string?>? getEnv = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args.Count == 0 || args[0] != "verify")
        {
            return Usage(output, args.Count == 0 ? "no audit command given" : $"unknown audit command '{args[0]}'");
        }

        string? directory = null;
        (long, string)? anchor = null;
        for (var i = 1; i < args.Count; i++)
        {
            if (args[i] == "--anchor")
            {
                if (i + 1 >= args.Count || !TryParseAnchor(args[i + 1], out var a))
                {
                    return Usage(output, "--anchor needs SEQ:HASH (a sequence number and the 64-digit hash the log had there)");
                }

                anchor = a;
                i++;
            }
            else if (directory is null && !args[i].StartsWith("--", StringComparison.Ordinal))
            {
                directory = args[i];
            }
            else
            {
                return Usage(output, $"unexpected argument '{args[i]}'");
            }
        }

        directory ??= new AuditOptions().ResolveDirectory(getEnv) ?? "/var/lib/warehouse-edge/audit";
        AuditVerification result;
        try
        {
            result = AuditVerifier.Verify(directory, anchor);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"audit: cannot read {directory}: {ex.Message}");
            return 2;
        }

        foreach (var w in result.Warnings)
        {
            output.WriteLine($"warning: {w}");
        }

        if (result.Problem is { } problem)
        {
            output.WriteLine($"TAMPERED: {problem} ({result.Records} records before it verified, in {directory})");
            return 1;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ok: {result.Records} records in {result.Files} file(s), seq {result.FirstSeq}..{result.HeadSeq}, head {result.HeadSeq}:{result.HeadHash} ({directory})"));
        return 0;
    }

    private static bool TryParseAnchor(string text, out (long, string) anchor)
    {
        anchor = default;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return false;
        }

        var hash = text[(colon + 1)..];
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
        {
            return false;
        }

        anchor = (seq, hash.ToLowerInvariant());
        return true;
    }

    private static int Usage(TextWriter output, string error)
    {
        output.WriteLine($"audit: {error}");
        output.WriteLine("usage: WarehouseHybrid.Edge audit verify [DIR] [--anchor SEQ:HASH]");
        return 2;
    }
}
