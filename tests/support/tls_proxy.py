#!/usr/bin/env python3
"""A TLS-terminating TCP proxy for the TLS end-to-end test: Tansu 0.6.0 cannot serve TLS
itself, so the broker advertises this proxy's port and every client connection (bootstrap
and broker) goes through it.

    tls_proxy.py --listen PORT --upstream PORT --cert server.pem --key server.key [--client-ca ca.pem]

With --client-ca a client certificate signed by that CA is required (mutual TLS). Prints
"listening" once ready, then one line per connection: "accepted <client CN>" or
"rejected <reason>".
"""
import argparse
import asyncio
import ssl


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca")
    args = ap.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED

    async def handle(client_r, client_w):
        peer = client_w.get_extra_info("peercert") or {}
        cn = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "-")
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", args.upstream)
        except OSError as e:
            print(f"rejected upstream {e}", flush=True)
            client_w.close()
            return
        print(f"accepted {cn} {client_w.get_extra_info('cipher')[1]}", flush=True)
        await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))

    loop = asyncio.get_running_loop()

    def on_error(_loop, context):
        exc = context.get("exception")
        print(f"rejected {type(exc).__name__}: {exc}", flush=True)

    loop.set_exception_handler(on_error)
    server = await asyncio.start_server(handle, "127.0.0.1", args.listen, ssl=ctx)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
