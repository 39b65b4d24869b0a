"""A job's page says what is being made and how far it is, never how many attempts it took."""
from workflows import jobs
from workflows.job_labels import JOB_LABELS


def test_every_kind_the_packages_register_has_a_label(app):
    registered = {name for name in jobs.kind_names()
                  if jobs.kind_of(name).func.__module__.startswith("workflows.")}
    assert registered and registered <= set(JOB_LABELS), sorted(registered - set(JOB_LABELS))


def test_the_job_page_names_what_is_made_and_how_far(app, city, create_user, client, login):
    create_user("admin.a", city["a"], "admin")
    login("admin.a")
    response = client.post("/documents/directory/", data={"unit_id": city["a"], "fmt": "xlsx"})
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "<h1>单位名录</h1>" in page
    assert "已完成：" in page and 'data-field="percent">100</span>%' in page
    assert "unit_directory" not in page and "尝试" not in page and "attempt" not in page.lower()
    client.post("/language/en", data={"next": f"/jobs/{run_id}"})
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "<h1>The unit directory</h1>" in page and "attempt" not in page.lower()
