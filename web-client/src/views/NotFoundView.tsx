import { Link } from "../components/Link.tsx";
import { paths } from "../router.ts";
import { useTitle } from "../use-title.ts";

export function NotFoundView() {
  useTitle("Not found");
  return (
    <section className="panel empty-state">
      <h1>Nothing here</h1>
      <p className="muted">This address is not a page of Atelier.</p>
      <Link className="button-primary" to={paths.create()}>
        Go to Create
      </Link>
    </section>
  );
}
