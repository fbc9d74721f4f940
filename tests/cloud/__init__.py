"""Google Cloud, offline: Vertex AI compile, Dataflow dry runs, the worker wheel."""
