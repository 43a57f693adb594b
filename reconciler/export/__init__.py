"""export: a catalog started from a live cloud. ``select`` decides what each image becomes
(pure), ``manifest_text`` writes it as commented YAML (pure), ``run`` reads and writes."""
