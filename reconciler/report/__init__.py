"""Every output format of the commands, for people and for machines. Pure: each renderer
returns text (or JSON events) and the CLI prints it.

- ``text``: the plan, the drift verdict (one cloud); ``run_text``: the same over several targets;
- ``apply_text``: apply's step lines and outcome; ``console``: its live output (progress bars);
- ``markdown``: a pull-request comment of a plan or a drift check;
- ``jsonlog``: one JSON object a line for log pipelines (apply and drift);
- ``documents``: the JSON documents (plan JSON is ``Plan.to_json``, the saved-plan format);
- ``blocks``: how actions group into what reports show and count; ``headlines``: the words
  for one action; ``legend`` and ``style``: symbols and colour; ``reporter``: the CLI's choice.
"""
