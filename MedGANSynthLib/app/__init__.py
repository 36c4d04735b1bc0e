"""Apps built on the core: the end-to-end demo (it may use the MRML bridge). The core never imports this package."""
