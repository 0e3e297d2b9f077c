"""FEniCSx process models. The only package that imports dolfinx, petsc4py and mpi4py."""
