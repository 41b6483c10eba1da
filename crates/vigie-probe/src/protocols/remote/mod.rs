//! Remote access and Windows sharing: SMB, RDP, VNC, Telnet, FTP.
