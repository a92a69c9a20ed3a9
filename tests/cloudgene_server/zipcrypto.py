"""Write ZipCrypto (traditional PKWARE) encrypted zips, the MIS default.

Why our own encrypter: pyzipper reads ZipCrypto but only writes WinZip AES.
The cipher is the one in APPNOTE.TXT section 6.1; the 12th header byte must be
the high byte of the entry's CRC, so the CRC is computed before writing.
"""

from __future__ import annotations

import os
import zlib

import pyzipper
from pyzipper.zipfile_aes import BaseZipEncrypter

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


class ZipCryptoEncrypter(BaseZipEncrypter):
    def __init__(self, password: bytes, check_byte: int):
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        self.check_byte = check_byte
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = (k0 >> 8) ^ _CRC_TABLE[(k0 ^ byte) & 0xFF]
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = (k2 >> 8) ^ _CRC_TABLE[(k2 ^ (k1 >> 24)) & 0xFF]
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray(len(data))
        for i, byte in enumerate(data):
            k = self.keys[2] | 2
            out[i] = byte ^ (((k * (k ^ 1)) >> 8) & 0xFF)
            self._update(byte)
        return bytes(out)

    def encryption_header(self) -> bytes:
        return self.encrypt(os.urandom(11) + bytes([self.check_byte]))

    def update_zipinfo(self, zipinfo) -> None:
        pass

    def finalize_zipinfo(self, zipinfo) -> None:
        pass


class ZipCryptoFile(pyzipper.ZipFile):
    """A pyzipper.ZipFile whose writestr() encrypts every entry with ZipCrypto."""

    def __init__(self, *args, password: bytes, **kwargs):
        super().__init__(*args, **kwargs)
        self.setpassword(password)
        self.encryption = "zipcrypto"
        self._next_crc = 0

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        self._next_crc = zlib.crc32(data)
        return super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def get_encrypter(self):
        return ZipCryptoEncrypter(self.pwd, self._next_crc >> 24)
