"""PII key rotation and downloads of documents and contract PDFs running at the same time for
real: committed rows, one connection per thread, on SQLite and PostgreSQL alike (the suite's
database). Rotation writes each file anew and deletes the old one once it has committed; the row
locks (on SQLite, the database's write lock) are what keep a download from finding its file
gone, so the normal rolled-back fixtures, one connection for everything, cannot test them."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM, Actor
from crm.auth.service import actor_for_user
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.compliance.rotation import ResealBatch, reseal_contracts, reseal_documents
from crm.db import Base, Database, utcnow
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead
from crm.loans import applications_api, contracts, documents
from crm.loans.applications import create_application
from crm.loans.models import Application, ApplicationDocument, Contract
from crm.loans.products import create_lender, create_product
from crm.loans.schemas import NewApplication, NewLender, NewProduct
from crm.loans.storage import DocumentStorage, EncryptedStorage, LocalStorage
from crm.orgs.models import Org
from tests.factories import Factory
from tests.loan_helpers import PNG, product_body
from tests.pii_keys import retired_keys_removed

pytestmark = pytest.mark.integration

T = TypeVar("T")
# every wait is bounded: a lock never released fails the test instead of hanging the suite
WAIT = 15.0
# how long the side that must wait is watched; unblocked, it would be done in milliseconds
WATCHED = 0.5
NAME = "欧阳娜娜"
TERMS = {"amount": "50000.00", "term_months": 12, "service_fee": "1000.00"}


class Pause:
    """A point where a thread stops until the test lets it go on; the test learns it got there."""

    def __init__(self) -> None:
        self._reached = threading.Event()
        self._go_on = threading.Event()

    def here(self) -> None:
        self._reached.set()
        if not self._go_on.wait(WAIT):
            raise TimeoutError("the test never let this thread go on")

    def wait_reached(self, by: Future) -> None:
        """Until the thread running `by` got here; what it raised if it failed on the way."""
        by.add_done_callback(lambda _: self._reached.set())
        assert self._reached.wait(WAIT), "the thread never got to its pause"
        if by.done():
            by.result()
            pytest.fail("the thread finished without pausing")

    def go_on(self) -> None:
        self._go_on.set()


class PausedReads:
    """Document storage whose reads stop at `pause`: a download that has read its row (and holds
    it) but not yet its file."""

    def __init__(self, storage: DocumentStorage, pause: Pause) -> None:
        self.storage = storage
        self.pause = pause

    def get(self, key: str) -> bytes:
        self.pause.here()
        return self.storage.get(key)


def started(call: Callable[[], T]) -> Future[T]:
    """`call` running in a thread of its own (a daemon: a stuck one never holds pytest up)."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


def still_waiting(future: Future) -> bool:
    """Not done after WATCHED seconds: held up, as nothing else would take it that long."""
    return not wait([future], timeout=WATCHED).done


@dataclass(frozen=True)
class Overlap:
    """A download started while a rotation held its row: what each came to."""

    batch: ResealBatch
    content: bytes
    download_waited: bool  # still at it after WATCHED seconds, until the rotation committed


def download_while_resealing(
    reseal: Callable[[Pause], ResealBatch], download: Callable[[], bytes]
) -> Overlap:
    """`download` started once `reseal` has written the new file and moved the row but not yet
    committed (it stops at its pause), and watched; then the rotation is let go on."""
    resealed = Pause()
    rotation = started(lambda: reseal(resealed))
    try:
        resealed.wait_reached(rotation)
        downloading = started(download)
        waited = still_waiting(downloading)
    finally:
        resealed.go_on()
    return Overlap(rotation.result(WAIT), downloading.result(WAIT), waited)


class World:
    """One org whose agent has an application with an ID card photo, sealed with a keyring and
    kept in a folder of the world's own; committed through its own engine, removed after."""

    def __init__(self, database_url: str, root: Path) -> None:
        self.db = Database()
        self.db.configure(database_url)
        self.files = LocalStorage(root)
        self.keyring = PiiKeyring.generate_json()
        self.org_id: int | None = None

    @property
    def vault(self) -> PiiVault:
        """The vault of a process started with the current keyring."""
        return PiiVault(PiiCipher(PiiKeyring.from_json(self.keyring)))

    @property
    def storage(self) -> EncryptedStorage:
        """The document storage of a process started with the current keyring."""
        return EncryptedStorage(self.files, self.vault.cipher)

    def build(self) -> None:
        self.agent = self._org_with_agent()
        draft = LeadDraft(phone=f"139{random.randrange(10**8):08d}", name=NAME, source="web_form")
        columns = lead_columns(self.vault, draft, self.org_id, None, utcnow())
        with self.db.unit_of_work(self.agent) as session:
            lead = Lead(**columns, owner_id=self.agent.user_id)
            session.add(lead)
            session.flush()
            lender = create_lender(session, self.agent, NewLender(name="招商银行", kind="bank"))
            # the bodies as the API parses them: JSON, with money as strings
            body = json.dumps(product_body(lender.id))
            product = create_product(session, self.agent, NewProduct.model_validate_json(body))
            body = json.dumps({"lead_id": lead.id, "product_id": product.id, **TERMS})
            application = create_application(
                session, self.agent, self.vault, NewApplication.model_validate_json(body)
            )
            document = documents.upload(
                session, self.agent, self.storage, application.id, "id_card", "身份证.png", PNG
            )
            self.application_id, self.document_id = application.id, document.id

    def _org_with_agent(self) -> Actor:
        make = Factory(self.db)
        org = make.org()
        self.org_id = org.id
        agent = make.user("agent", org=org)
        with self.db.unit_of_work(SYSTEM) as session:
            return actor_for_user(session, agent.id)

    def add_contract(self) -> tuple[Contract, bytes]:
        """The application approved and its contract generated, the PDF rendered as the
        contract's job renders it; the contract and the PDF."""
        with self.db.unit_of_work(SYSTEM) as session:
            # how it came to be approved is not what is tested here
            session.get(Application, self.application_id).status = "approved"
        with self.db.unit_of_work(self.agent) as session:
            contract = contracts.generate(
                session, self.agent, self.storage, self.vault, self.application_id
            )
            pdf = contracts.ensure_pdf(session, self.storage, self.vault, contract)
        return contract, pdf

    def rotate(self) -> None:
        """The operator deployed a rotated keyring: the old key still opens, the new one seals."""
        self.keyring = PiiKeyring.from_json(self.keyring).rotated_json()

    def retire_old_keys(self) -> None:
        self.keyring = retired_keys_removed(self.keyring)

    def reseal_document(self, pause: Pause | None = None) -> ResealBatch:
        """Rotation's batch holding exactly this document, committed; with `pause`, held open
        (the row locked, the new file written) at the pause first."""
        with self.db.unit_of_work(SYSTEM) as session:
            batch = reseal_documents(session, self.storage, self.document_id - 1, 1)
            if pause:
                pause.here()
        return batch

    def reseal_contract(self, contract_id: int, pause: Pause) -> ResealBatch:
        """As reseal_document, for the contract."""
        with self.db.unit_of_work(SYSTEM) as session:
            batch = reseal_contracts(session, self.vault, self.storage, contract_id - 1, 1)
            pause.here()
        return batch

    def download(self, storage: DocumentStorage) -> bytes:
        """The document as its agent downloads it."""
        with self._as_endpoint("download_document") as session:
            return documents.download(
                session, self.agent, storage, self.application_id, self.document_id
            ).content

    def download_pdf(self, version: int) -> bytes:
        with self._as_endpoint("download_contract") as session:
            found = contracts.download(
                session, self.agent, self.storage, self.vault, self.application_id, version, "pdf"
            )
            return found.content

    def _as_endpoint(self, name: str) -> AbstractContextManager[Session]:
        """The agent's unit of work as the API runs endpoint `name`: on SQLite a download
        waits for a rotation (and a rotation for it) only by the write lock, which a unit of
        work declared read-only does not take."""
        (endpoint,) = (op for op in applications_api.bp.operations if op.name == name)
        return self.db.unit_of_work(self.agent, readonly=endpoint.readonly)

    def document(self) -> ApplicationDocument:
        with self.db.unit_of_work(SYSTEM, readonly=True) as session:
            return session.get(ApplicationDocument, self.document_id)

    def contract(self, contract_id: int) -> Contract:
        with self.db.unit_of_work(SYSTEM, readonly=True) as session:
            return session.get(Contract, contract_id)

    def stored_files(self) -> set[str]:
        root = self.files.root
        return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}

    def remove(self) -> None:
        if self.org_id is not None:
            with self.db.unit_of_work(SYSTEM) as session:
                # whatever the services wrote for the org (events, audit entries, ...), children
                # before their parents
                for table in reversed(Base.metadata.sorted_tables):
                    if "org_id" in table.c:
                        session.execute(delete(table).where(table.c.org_id == self.org_id))
                session.execute(delete(Org).where(Org.id == self.org_id))
        self.db.engine.dispose()
        shutil.rmtree(self.files.root, ignore_errors=True)


@pytest.fixture
def world(app, database_url: str, tmp_path: Path) -> Iterator[World]:
    # `app`: the app factory imports every model, which the clean-up walks
    built = World(database_url, tmp_path / "documents")
    try:
        built.build()
        yield built
    finally:
        built.remove()


def test_a_download_waits_for_the_rotation_moving_its_document_and_gets_the_same_bytes(world):
    old_key = world.document().storage_key
    world.rotate()

    seen = download_while_resealing(world.reseal_document, lambda: world.download(world.storage))

    assert seen.download_waited, "the download went on while rotation held the document"
    assert (seen.batch.resealed, seen.content) == (1, PNG)
    new_key = world.document().storage_key
    assert new_key != old_key
    assert world.stored_files() == {new_key}  # the old file is gone, no other left behind


def test_a_rotation_waits_for_a_download_reading_the_document_then_moves_it(world):
    old_key = world.document().storage_key
    world.rotate()
    reading = Pause()
    download = started(lambda: world.download(PausedReads(world.storage, reading)))
    try:
        reading.wait_reached(download)
        rotation = started(world.reseal_document)
        rotation_waited = still_waiting(rotation)
    finally:
        reading.go_on()

    # first what the user would see had the rotation not waited: their file deleted under them
    assert download.result(WAIT) == PNG
    assert rotation_waited, "rotation moved the document while it was being read"
    assert rotation.result(WAIT).resealed == 1
    world.retire_old_keys()
    assert world.download(world.storage) == PNG
    new_key = world.document().storage_key
    assert new_key != old_key
    assert world.stored_files() == {new_key}


def test_a_pdf_download_waits_for_the_rotation_moving_the_contract_and_gets_the_same_pdf(world):
    contract, pdf = world.add_contract()
    world.rotate()

    seen = download_while_resealing(
        lambda pause: world.reseal_contract(contract.id, pause),
        lambda: world.download_pdf(contract.version),
    )

    assert seen.download_waited, "the download went on while rotation held the contract"
    assert (seen.batch.resealed, seen.content) == (1, pdf)
    moved = world.contract(contract.id)
    assert moved.pdf_key != contract.pdf_key
    assert moved.pdf_sha256 == hashlib.sha256(pdf).hexdigest()  # what the contract list shows
    assert world.stored_files() == {world.document().storage_key, moved.pdf_key}
