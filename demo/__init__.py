"""The demo: generate a synthetic sample company, then run the main job on it (`python -m demo`, `make demo`).

It sits above the orchestration, which never imports the generator: in a deployment the exports come from
the company's systems, and the main job (`python -m orchestration.run`) only reads them.
"""
