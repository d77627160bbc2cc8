"""Code that runs on simulated hosts (stdlib only): the vendor tools and the .run installer."""
