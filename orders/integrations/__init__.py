"""Order-side integrations: Send FRs, Get Acknowledgements, Get Shipments, Get Source Invoices.

Each operation's runner is registered with ``sources.runners`` from ``OrdersConfig.ready``; a runner
picks its channel by the integration's connection kind and file format: REST (a vendor protocol from
``rest.PROTOCOLS``, chosen by ``connection.options["protocol"]``), CSV/XLSX files on FTP/SFTP, or EDI X12.
"""
