using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Models;

/// <summary>Where the committed model package and the development public key that signed it live (one place to bump the version).</summary>
internal static class ShippedModel
{
    /// <summary>The version of the committed package.</summary>
    public const string Version = "1.1.0";

    /// <summary>edge/WarehouseHybrid.Edge/Models/Packages.</summary>
    public static string Packages { get; } = Path.Combine(RepoPaths.Root, "edge", "WarehouseHybrid.Edge", "Models", "Packages");

    /// <summary>The committed package directory.</summary>
    public static string PackagePath { get; } = Path.Combine(Packages, "driving-policy-" + Version);

    /// <summary>The committed development public key (PEM file).</summary>
    public static string PublicKeyPath { get; } = Path.Combine(Packages, "dev-model-key.pub.pem");
}
