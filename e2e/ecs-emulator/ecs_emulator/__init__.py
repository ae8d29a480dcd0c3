"""An ECS emulator: moto's ECS with a simulated control plane (see the README's "ECS emulator")."""
