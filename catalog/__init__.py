"""The desired state of a Glance image catalog: load, validate and model manifests. No network."""
