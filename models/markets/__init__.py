"""Markets: where the exports go. Regions, the destination rows they are read from, a model
of their shares, and the shares' paths made coherent with the total's."""
