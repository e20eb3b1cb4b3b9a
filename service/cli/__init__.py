"""The `exportcast` command line: imports the rest of the project, imported by nothing."""
