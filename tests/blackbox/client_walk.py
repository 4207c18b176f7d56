"""The generated client (`make client`): a Python client generated from the committed
openapi/openapi.yaml by openapi-python-client walks a person's whole journey against the real
server — a manager (made by the CLI) signs in and adds a product; a client registers, opens the
mailed link, signs in with the mailed code, orders the product and signs out.

Every HTTP call goes through the generated client; mails are read from the server's console
log (as a person reads their inbox) and the manager is made by `allomedia create-manager`.
Each step must answer exactly its documented status with its documented model, or the walk
stops with the step's name and what it got.

    python3 tests/blackbox/client_walk.py GENERATED_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import LOGIN_CODE, VERIFY_LINK, BlackboxError, Server  # noqa: E402

PACKAGE = "allomedia_client"


class StepFailed(BlackboxError):
    pass


def answer(step: str, response: Any, status: int, model: type | None) -> Any:
    """The parsed body of `response`, or a loud failure naming the step."""
    got = int(response.status_code)
    if got != status:
        raise StepFailed(f"{step}: expected {status}, got {got}: {response.content[:500]!r}")
    if model is not None and not isinstance(response.parsed, model):
        raise StepFailed(
            f"{step}: expected a {model.__name__}, the client parsed "
            f"{type(response.parsed).__name__}: {response.content[:500]!r}"
        )
    print(f"  ok  {step}: {got}")
    return response.parsed


def walk(server: Server) -> None:
    from allomedia_client import AuthenticatedClient, Client
    from allomedia_client.api.auth import (
        login, logout, register, verify_email_link, verify_login_code,
    )
    from allomedia_client.api.me import get_me
    from allomedia_client.api.orders import get_order, place_order
    from allomedia_client.api.products import create_product, get_product
    from allomedia_client.models import (
        CreateProductBody, LoginBody, LoginChallengeBody, MessageBody, Order, OrderItem,
        PlaceOrderBody, Problem, Product, RegisterBody, TokensBody, User, VerifyCodeBody,
    )

    anonymous = Client(base_url=server.base, raise_on_unexpected_status=True)

    def sign_in(who: str, email: str) -> AuthenticatedClient:
        sent = len(server.mailbox.mails_to(email))
        challenge = answer(
            f"{who}: log in with the password",
            login.sync_detailed(client=anonymous,
                                body=LoginBody(email=email, password=server.password)),
            202, LoginChallengeBody,
        )
        code = server.mailbox.wait_for(email, LOGIN_CODE, after=sent)
        tokens = answer(
            f"{who}: type the mailed 6-digit code",
            verify_login_code.sync_detailed(
                client=anonymous,
                body=VerifyCodeBody(challenge_id=challenge.challenge_id, code=code)),
            200, TokensBody,
        )
        if tokens.token_type != "Bearer" or tokens.expires_in <= 0:
            raise StepFailed(f"{who}: odd tokens {tokens.to_dict()}")
        return AuthenticatedClient(base_url=server.base, token=tokens.access_token,
                                   raise_on_unexpected_status=True)

    # The manager, made by the CLI, adds a product to order.
    manager_email = "salma@client-walk.test"
    server.create_manager("Salma", manager_email)
    manager = sign_in("manager", manager_email)
    product = answer(
        "manager: create a product",
        create_product.sync_detailed(
            client=manager,
            body=CreateProductBody(name="Tajine aux pruneaux", price_cents=8500, available=True)),
        201, Product,
    )
    answer("anyone: read the product", get_product.sync_detailed(client=anonymous, id=product.id),
           200, Product)

    # The client signs up, confirms the address and signs in.
    client_email = "amina@client-walk.test"
    sent = len(server.mailbox.mails_to(client_email))
    answer(
        "client: register",
        register.sync_detailed(
            client=anonymous,
            body=RegisterBody(name="Amina", email=client_email, password=server.password)),
        202, MessageBody,
    )
    token = server.mailbox.wait_for(client_email, VERIFY_LINK, after=sent)
    answer("client: open the mailed verification link",
           verify_email_link.sync_detailed(client=anonymous, token=token), 200, MessageBody)
    client = sign_in("client", client_email)
    me = answer("client: read the account", get_me.sync_detailed(client=client), 200, User)
    if me.email != client_email or not me.email_verified or me.role.value != "client":
        raise StepFailed(f"client: unexpected account {me.to_dict()}")

    # The order: prices come from the catalogue.
    order = answer(
        "client: place an order",
        place_order.sync_detailed(
            client=client,
            body=PlaceOrderBody(items=[OrderItem(product_id=product.id, quantity=2)],
                                delivery_address="12 rue Atlas, Casablanca")),
        201, Order,
    )
    if order.status.value != "pending" or order.total_cents != 2 * 8500:
        raise StepFailed(f"client: unexpected order {order.to_dict()}")
    answer("client: read the order", get_order.sync_detailed(client=client, id=order.id),
           200, Order)

    # Signing out ends the session at once: the same token is refused.
    answer("client: log out", logout.sync_detailed(client=client), 204, None)
    refused = answer("client: the old token after logout",
                     get_me.sync_detailed(client=client), 401, Problem)
    if refused.code.value != "unauthenticated":
        raise StepFailed(f"client: after logout expected `unauthenticated`, got {refused.code}")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    generated = Path(sys.argv[1]).resolve()
    if not (generated / PACKAGE / "__init__.py").is_file():
        print(f"client_walk: no generated package {PACKAGE} in {generated}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(generated))
    server = Server()
    try:
        server.start()
        print(f"client_walk: allomedia on {server.base}, generated client from {generated}")
        walk(server)
    except BlackboxError as error:
        print(f"client_walk FAILED: {error}\nlast server log lines:\n{server.log_tail()}",
              file=sys.stderr)
        return 1
    finally:
        server.cleanup()
    print("client_walk: register → verify → login → code → order → logout, all through the "
          "generated client")
    return 0


if __name__ == "__main__":
    sys.exit(main())
