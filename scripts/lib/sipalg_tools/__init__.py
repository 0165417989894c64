"""Python helpers shared by sipalg's tests, lab and benchmarks: running sipalgd over pcap files or in
the namespace lab, talking to its rte_telemetry socket, and reading captures with tshark."""
