"""nnplay's engine: small fully-connected networks in NumPy that explain every step."""
