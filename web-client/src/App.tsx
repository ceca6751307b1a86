import { ApiKeyDialog } from "./components/ApiKeyDialog.tsx";
import { ConnectionBanner } from "./components/ConnectionBanner.tsx";
import { Link } from "./components/Link.tsx";
import { paths, useLocation } from "./router.ts";
import { CreateView } from "./views/CreateView.tsx";
import { GalleryView } from "./views/GalleryView.tsx";
import { JobsView } from "./views/JobsView.tsx";
import { JobView } from "./views/JobView.tsx";
import { NotFoundView } from "./views/NotFoundView.tsx";

/** The view for a path. */
function View({ path }: { path: string }) {
  if (path === paths.create()) return <CreateView />;
  if (path === paths.gallery()) return <GalleryView />;
  if (path === paths.jobs()) return <JobsView />;
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job) return <JobView key={job[1]} id={decodeURIComponent(job[1]!)} />;
  return <NotFoundView />;
}

const NAVIGATION = [
  { label: "Create", to: paths.create(), matches: (path: string) => path === "/" },
  { label: "Gallery", to: paths.gallery(), matches: (path: string) => path.startsWith("/gallery") },
  { label: "Jobs", to: paths.jobs(), matches: (path: string) => path.startsWith("/jobs") },
];

export function App() {
  const { path } = useLocation();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <Link to={paths.create()} className="brand" aria-label="Atelier, home">
            <img src="/favicon.svg" alt="" width={28} height={28} />
            <span>Atelier</span>
          </Link>
          <nav aria-label="Main">
            <ul>
              {NAVIGATION.map((item) => (
                <li key={item.label}>
                  <Link to={item.to} aria-current={item.matches(path) ? "page" : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </div>
      </header>
      <ConnectionBanner />
      <main id="main" className="app-main">
        <View path={path} />
      </main>
      <ApiKeyDialog />
    </>
  );
}
