"""vfactory: a virtual-factory toolkit."""
