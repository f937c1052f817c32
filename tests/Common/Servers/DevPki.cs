using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WarehouseHybrid.Tests.Common.Servers;

/// <summary>
/// A development PKI made by the project's own script (deploy/pki/make-dev-pki.sh, openssl) in a temporary
/// directory, plus what the script cannot make (an expired device certificate, signed by the same CA with
/// .NET's CertificateRequest). <see cref="MosquittoTlsConfig"/> gives the Mosquitto lines of deploy/mosquitto
/// (TLS listener, require_certificate, use_identity_as_username, the repository's ACL file).
/// </summary>
internal sealed class DevPki : IDisposable
{
    private DevPki(string directory) => Directory = directory;

    /// <summary>The directory of the files.</summary>
    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.crt");

    public string CaKeyFile => Path.Combine(Directory, "ca.key");

    /// <summary>The repository's ACL file (deploy/mosquitto/acl).</summary>
    public static string AclFile => Path.Combine(RepoPaths.Root, "deploy", "mosquitto", "acl");

    /// <summary>Certificate and key of an identity: "cloud-bridge", "site-controller" or a device id.</summary>
    public (string Cert, string Key) Identity(string id) =>
        id is "cloud-bridge" or "site-controller" or "broker"
            ? (Path.Combine(Directory, id + ".crt"), Path.Combine(Directory, id + ".key"))
            : (Path.Combine(Directory, "devices", id + ".crt"), Path.Combine(Directory, "devices", id + ".key"));

    /// <summary>Runs the script for <paramref name="devices"/> into a new temporary directory.</summary>
    public static async Task<DevPki> CreateAsync(params string[] devices)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("wh-pki-").FullName;
        var script = Path.Combine(RepoPaths.Root, "deploy", "pki", "make-dev-pki.sh");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(dir);
        psi.ArgumentList.Add("--devices");
        psi.ArgumentList.Add(string.Join(',', devices));
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {await stdout}{await stderr}");
        }

        return new DevPki(dir);
    }

    /// <summary>The Mosquitto lines of deploy/mosquitto/mosquitto.conf's listener, for this PKI on <c>{port}</c>.</summary>
    public IReadOnlyList<string> MosquittoTlsConfig() =>
    [
        "listener {port} 127.0.0.1",
        $"cafile {CaFile}",
        $"certfile {Identity("broker").Cert}",
        $"keyfile {Identity("broker").Key}",
        "tls_version tlsv1.2",
        "require_certificate true",
        "use_identity_as_username true",
        $"acl_file {AclFile}",
    ];

    /// <summary>A device certificate signed by this CA whose validity ended yesterday (PEM files; returns their paths).</summary>
    public (string Cert, string Key) ExpiredIdentity(string id, TimeProvider time)
    {
        // The CA was made seconds ago, so the certificate's validity must predate it: sign with the CA's key and name
        // directly (the issuer-certificate overload refuses a notBefore before the issuer's).
        using var caCert = X509Certificate2.CreateFromPem(File.ReadAllText(CaFile));
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(File.ReadAllText(CaKeyFile));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"O=WarehouseHybrid dev, CN={id}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = time.GetUtcNow();
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var cert = request.Create(caCert.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddDays(-30), now.AddDays(-1), serial);
        var certPath = Path.Combine(Directory, $"expired-{id}.crt");
        var keyPath = Path.Combine(Directory, $"expired-{id}.key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
