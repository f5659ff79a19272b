module gctunebench

go 1.19
