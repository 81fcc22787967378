"""pipestack's admin API for tests (`serve --admin-api`, routes under /_pipestack/) from Python.

An example to copy into an integration's own suite: start pipestack once per test class, reset
the company before each test, call the Pipedrive API with `requests`, then check what pipestack
received through its request journal, or make it fail on purpose with an injected fault.

    python3 -m unittest tests/clients/python/test_admin_example.py -v

Needs `requests`. PIPESTACK_BIN overrides the binary (default: target/debug/pipestack).
"""
import os
import queue
import re
import subprocess
import threading
import unittest

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("PIPESTACK_BIN") or os.path.join(HERE, "..", "..", "..", "target", "debug", "pipestack")
TOKEN = "python-example-token-0001"


class AdminApiExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen(
            [BIN, "serve", "--memory", "--admin-api", "--listen", "127.0.0.1:0", "--api-token", TOKEN],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PIPESTACK_LOG": "warn"},
        )
        # The port is chosen by the system: read it from the "base URL: http://…/v1" line. A thread
        # reads stdout to its end, so that the server never blocks on a full pipe.
        lines = queue.Queue()

        def pump():
            for line in cls.server.stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        cls.base = None
        while cls.base is None:
            try:
                match = re.search(r"base URL: (http://\S+)/v1", lines.get(timeout=10))
            except queue.Empty:
                cls.server.kill()
                raise RuntimeError("pipestack did not start in 10 s")
            cls.base = match and match.group(1)
        cls.http = requests.Session()
        cls.http.headers["x-api-token"] = TOKEN

    @classmethod
    def tearDownClass(cls):
        cls.http.close()
        cls.server.terminate()
        cls.server.wait(timeout=10)

    def setUp(self):
        # Every test starts from the company as it was at first start: no persons, an empty
        # journal, no faults, real time.
        self.admin("POST", "/reset")

    def admin(self, method, path, **kwargs):
        """Calls the admin API; returns the `data` of its envelope, failing the test on an error."""
        res = self.http.request(method, f"{self.base}/_pipestack{path}", **kwargs)
        body = res.json()
        self.assertTrue(body["success"], f"{method} /_pipestack{path}: {res.status_code} {body}")
        return body["data"]

    def api(self, method, path, **kwargs):
        return self.http.request(method, f"{self.base}{path}", **kwargs)

    def test_a_created_person_is_in_the_journal(self):
        sent = {"name": "Ada Lovelace", "emails": [{"value": "ada@example.com", "primary": True}]}
        res = self.api("POST", "/api/v2/persons", json=sent)
        self.assertEqual(res.status_code, 200)

        entries = self.admin("GET", "/requests", params={"method": "POST", "path": "/api/v2/persons"})
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertEqual(entry["method"], "POST")
        self.assertEqual(entry["path"], "/api/v2/persons")
        self.assertEqual(entry["request_body"], sent)
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["response_body"]["data"]["id"], res.json()["data"]["id"])
        self.assertIsNone(entry["fault_id"])

    def test_the_journal_finds_failed_requests_and_hides_the_token(self):
        self.api("POST", "/api/v2/persons", json={"name": "Fine"})
        self.api("POST", "/api/v2/persons", json={"emails": [{"value": "nameless@example.com"}]})
        self.api("GET", "/api/v2/persons", params={"limit": 5, "api_token": TOKEN})

        [failed] = self.admin("GET", "/requests", params={"status": 400})
        self.assertEqual(failed["response_body"]["error"], "Name must be given.")
        [listed] = self.admin("GET", "/requests", params={"method": "GET", "limit": 1})
        self.assertEqual(listed["query"], "limit=5&api_token=REDACTED")

    def test_a_form_encoded_body_is_journaled_as_text(self):
        res = self.api("POST", "/v1/persons", data={"name": "Form Person"})
        self.assertEqual(res.status_code, 201)
        [entry] = self.admin("GET", "/requests", params={"path": "/v1/persons"})
        self.assertEqual(entry["request_body"], "name=Form+Person")

    def test_each_test_starts_empty(self):
        self.assertEqual(self.admin("GET", "/requests"), [])
        self.assertEqual(self.api("GET", "/api/v2/persons").json()["data"], [])
        # And a reset in the middle of a test empties the company again.
        self.api("POST", "/api/v2/persons", json={"name": "Short Lived"})
        self.admin("POST", "/reset")
        self.assertEqual(self.api("GET", "/api/v2/persons").json()["data"], [])

    def test_an_injected_503_fails_once_then_the_call_succeeds(self):
        person = self.api("POST", "/api/v2/persons", json={"name": "Flaky Fetch"}).json()["data"]
        fault = self.admin("POST", "/faults", json={
            "method": "GET", "path": "/api/v2/persons/{id}", "status": 503, "times": 1,
        })

        first = self.api("GET", f"/api/v2/persons/{person['id']}")
        self.assertEqual(first.status_code, 503)
        self.assertEqual(first.headers["x-pipestack-fault"], str(fault["id"]))
        self.assertFalse(first.json()["success"])
        retry = self.api("GET", f"/api/v2/persons/{person['id']}")
        self.assertEqual(retry.status_code, 200)
        self.assertEqual(retry.json()["data"]["name"], "Flaky Fetch")

        attempts = self.admin("GET", "/requests", params={"method": "GET", "path": "/api/v2/persons/"})
        self.assertEqual([(e["status"], e["fault_id"]) for e in attempts], [(200, None), (503, fault["id"])])
        self.assertEqual(self.admin("GET", "/faults"), [])

    def test_a_fault_can_answer_with_its_own_body(self):
        limited = {"success": False, "error": "Rate limit exceeded", "errorCode": 429}
        self.admin("POST", "/faults", json={"method": "POST", "path": "/api/v2/persons", "status": 429, "body": limited})
        res = self.api("POST", "/api/v2/persons", json={"name": "Too Soon"})
        self.assertEqual(res.status_code, 429)
        self.assertEqual(res.json(), limited)
        # Until it is deleted (no `times`): nothing was created meanwhile.
        self.admin("DELETE", "/faults")
        self.assertEqual(self.api("GET", "/api/v2/persons").json()["data"], [])

    def test_a_frozen_clock_sets_add_time(self):
        self.admin("PUT", "/clock", json={"time": "2020-01-02T03:04:05Z", "frozen": True})
        person = self.api("POST", "/api/v2/persons", json={"name": "Time Traveller"}).json()["data"]
        self.assertEqual(person["add_time"], "2020-01-02T03:04:05Z")
        self.assertEqual(person["update_time"], "2020-01-02T03:04:05Z")


if __name__ == "__main__":
    unittest.main()
