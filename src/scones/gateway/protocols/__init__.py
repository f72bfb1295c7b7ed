"""AWS wire protocols, driven by botocore's service models: a request becomes an operation and its input
dict, an output dict becomes headers and a body. Services behind the gateway see plain dicts."""
