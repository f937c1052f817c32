using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WarehouseHybrid.Contracts.Security;

/// <summary>
/// Mutual-TLS settings of an MQTT client (edge daemon or cloud bridge): the CA that signed the broker's certificate,
/// and this client's certificate and private key (PEM files; docs/security.md). Empty <see cref="CertificateFile"/>
/// means plain TCP (the in-process demo broker). Checked at start by <see cref="Validate"/>, which names the option.
/// </summary>
public sealed class ClientTlsFiles
{
    /// <summary>PEM file of the CA certificate(s) the broker's certificate must chain to (only these are trusted).</summary>
    public string CaFile { get; set; } = string.Empty;

    /// <summary>PEM file of this client's certificate (its CN is the identity the broker's ACL knows it by).</summary>
    public string CertificateFile { get; set; } = string.Empty;

    /// <summary>PEM file of this client's private key (PKCS#8 or traditional; unencrypted, readable by the service only).</summary>
    public string KeyFile { get; set; } = string.Empty;

    /// <summary>Host name the broker's certificate must name (SAN); empty uses the host the client connects to.</summary>
    public string ServerName { get; set; } = string.Empty;

    /// <summary>Whether TLS is configured (a certificate file is given).</summary>
    public bool Enabled => CertificateFile.Length > 0 || KeyFile.Length > 0 || CaFile.Length > 0;

    /// <summary>Every problem, each naming <paramref name="prefix"/> + the option; empty when valid or not enabled.</summary>
    /// <param name="prefix">The configuration path of these settings, e.g. <c>Edge:Link:Tls:</c>.</param>
    /// <param name="time">The clock an expired client certificate is judged by.</param>
    public IReadOnlyList<string> Validate(string prefix, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var errors = new List<string>();
        if (!Enabled)
        {
            return errors;
        }

        Check(errors, prefix + "CaFile", CaFile);
        Check(errors, prefix + "CertificateFile", CertificateFile);
        Check(errors, prefix + "KeyFile", KeyFile);
        if (errors.Count > 0)
        {
            return errors;
        }

        try
        {
            using var loaded = Load();
            if (loaded.Client.NotAfter.ToUniversalTime() < time.GetUtcNow().UtcDateTime)
            {
                errors.Add($"{prefix}CertificateFile: '{CertificateFile}' expired on {loaded.Client.NotAfter.ToUniversalTime():u}");
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            errors.Add($"{prefix}CertificateFile/KeyFile/CaFile: cannot load '{CertificateFile}' with '{KeyFile}' and CA '{CaFile}': {ex.Message}");
        }

        return errors;
    }

    /// <summary>Loads the client certificate with its key and the trusted CA certificates.</summary>
    /// <exception cref="CryptographicException">A file is not valid PEM or the key does not match the certificate.</exception>
    public LoadedClientTls Load()
    {
        using var pem = X509Certificate2.CreateFromPemFile(CertificateFile, KeyFile);
        // SslStream on Linux wants a certificate whose key is not ephemeral: round-trip through PKCS#12.
        var client = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(CaFile);
        if (roots.Count == 0)
        {
            client.Dispose();
            throw new CryptographicException($"CA file '{CaFile}' holds no certificate");
        }

        return new LoadedClientTls(client, roots);
    }

    private static void Check(List<string> errors, string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            errors.Add($"{option}: must be set when TLS is configured (give CaFile, CertificateFile and KeyFile)");
        }
        else if (!File.Exists(path))
        {
            errors.Add($"{option}: file '{path}' does not exist");
        }
    }
}

/// <summary>A loaded client certificate and the CA certificates trusted for the broker.</summary>
/// <param name="Client">This client's certificate with its private key.</param>
/// <param name="Roots">The only CAs the broker's certificate may chain to.</param>
public sealed record LoadedClientTls(X509Certificate2 Client, X509Certificate2Collection Roots) : IDisposable
{
    /// <summary>
    /// Checks the broker's certificate against <see cref="Roots"/> only (never the system store): the chain must end
    /// at one of them, be within its validity period, and the name must match (<paramref name="errors"/> without
    /// <see cref="SslPolicyErrors.RemoteCertificateNameMismatch"/>).
    /// </summary>
    public bool ValidateServer(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // the dev PKI publishes no CRL; see docs/security.md
        return chain.Build(server);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Client.Dispose();
        foreach (var root in Roots)
        {
            root.Dispose();
        }
    }
}
