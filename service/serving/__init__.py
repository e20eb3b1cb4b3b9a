"""What is served: the active versions, their pre-serialised bodies, the polled fast path."""
