module example.com/gostore

go 1.19
