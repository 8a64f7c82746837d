"""Checks, with pyHanko's certificate validator, that a PDF's Document Security Store alone proves its
signers' certificates good: trust path to the given root and revocation status from the embedded OCSP
responses and CRLs, with fetching disabled and revocation information required.

Usage: pyhanko-dss-check.py FILE TRUST_ROOT_PEM   Prints one JSON object: { subject: "ok" | error }.
"""
import asyncio
import json
import sys

from asn1crypto import crl, ocsp, x509
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator import CertificateValidator, ValidationContext

path, trust_root = sys.argv[1:3]
with open(path, 'rb') as handle:
    reader = PdfFileReader(handle)
    dss = reader.root.get('/DSS')
    if dss is None:
        print(json.dumps({'error': 'no DSS'}))
        sys.exit(0)
    dss = dss.get_object()
    load = lambda key, kind: [kind.load(item.get_object().data) for item in dss.get(key, [])]
    certificates = load('/Certs', x509.Certificate)
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(trust_root)],
        other_certs=certificates,
        ocsps=load('/OCSPs', ocsp.OCSPResponse),
        crls=load('/CRLs', crl.CertificateList),
        allow_fetching=False,
        revocation_mode='require',
    )
    verdicts = {}
    for certificate in certificates:
        if certificate.ca or certificate.self_signed != 'no':
            continue
        usage = certificate.extended_key_usage_value
        if usage is not None and 'ocsp_signing' in usage.native:
            continue  # the responder's own certificate carries id-pkix-ocsp-nocheck
        try:
            asyncio.run(CertificateValidator(certificate, validation_context=context).async_validate_usage(set()))
            verdicts[certificate.subject.human_friendly] = 'ok'
        except Exception as error:  # the verdict is the output
            verdicts[certificate.subject.human_friendly] = f'{type(error).__name__}: {error}'
    print(json.dumps(verdicts))
