"""Local stand-ins for suppliers' APIs: small HTTP servers on loopback for tests and the demo."""
