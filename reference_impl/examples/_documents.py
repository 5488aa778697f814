"""The five source documents the examples reproduce, by file name (docs/documents.md says what each is)."""

D000, D001, D002, D003, D004 = ("000_ea17d77324d96e4c.txt", "001_b373d019e6023af9.txt", "002_24b730d8c52bdb4b.txt",
                                "003_dd19dcd3624d9b51.txt", "004_f58117f23d7db6a4.txt")
