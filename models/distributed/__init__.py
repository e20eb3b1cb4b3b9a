"""Back-ends that run fits on many machines. The engine takes any
`concurrent.futures.Executor`; these build one."""
