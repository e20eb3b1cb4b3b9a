"""Export items reconciled to their total: a hierarchy's nodes, coherent sample paths, and
shares and concentration read from the same paths."""
