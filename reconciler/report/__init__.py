"""Every output format of the commands, for people and for machines. Pure: each renderer
returns text (or JSON events) and the CLI prints it. Every run is a run over targets; whether
a run over one cloud reads as it did before targets is each format's decision.

- ``registry``: every format by the name --format and --log-format take (the options' choices);
  ``format_types``: what a format provides; ``reporter``: the CLI's choice of format and colour;
- ``text``: one plan, one drift verdict; ``run_text``: a run's plans, drift and outcomes
  (--format text), with one target exactly the one-plan text;
- ``apply_text``: apply's step lines and outcome; ``apply_output``: apply for people
  (--log-format text); ``console``: its live output (progress bars);
- ``markdown``: a pull-request comment of a plan or a drift check (--format markdown);
- ``jsonlog``: one JSON object a line for log pipelines (--log-format json);
- ``documents``: the JSON documents (--format json; plan JSON is ``Plan.to_json``, the
  saved-plan format);
- ``blocks``: how actions group into what reports show and count; ``headlines``: the words
  for one action; ``legend`` and ``style``: symbols and colour.
"""
