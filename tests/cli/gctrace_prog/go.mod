module gctrace_prog

go 1.19
