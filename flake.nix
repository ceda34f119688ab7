{
  description = "Ripple with the Holochain 0.6 toolchain: holochain, hc, lair-keystore, kitsune2-bootstrap-srv and Rust with wasm32, to build the zomes, pack workdir/ripple.happ and run the scenarios under tryorama";

  inputs = {
    # holonix main-0.6 at holochain 0.6.0 / kitsune2 0.3.2 / lair 0.6.3: what tryorama 0.19 runs.
    holonix.url = "github:holochain/holonix/2fec8bf3772bf0df6f37734da3e063b9aa285aca";
    nixpkgs.follows = "holonix/nixpkgs";
    flake-parts.follows = "holonix/flake-parts";
  };

  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } {
      systems = builtins.attrNames inputs.holonix.devShells;
      perSystem = { inputs', pkgs, ... }: {
        formatter = pkgs.nixpkgs-fmt;
        devShells.default = pkgs.mkShell {
          inputsFrom = [ inputs'.holonix.devShells.default ];
          packages = [ pkgs.nodejs_22 ];
        };
      };
    };
}
