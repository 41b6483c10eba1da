//! Data and infrastructure services: databases and caches, SNMP, DNS, NTP, printers, mail.
