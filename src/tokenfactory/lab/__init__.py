"""Container lab: engine bootstrap helpers, hosts, Ascend simulator."""
