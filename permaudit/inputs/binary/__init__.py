"""Binary decoders that know nothing of manifest semantics: zip, AXML, protobuf XML, ARSC, DEX."""
