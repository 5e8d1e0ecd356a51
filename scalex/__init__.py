"""The plumbing around the method: config files, run directories, data sources and
preparation, the tokenizer, data transformations, downstream tasks, export, and the
report with its claims. The method itself is in the five top-level files."""
