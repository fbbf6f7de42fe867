public import GatehouseModel
public import Rendering

/// Why a build stopped. Nothing in the output folder has changed unless the case says so.
public enum BuildError: Error, Hashable, CustomStringConvertible {
    /// The model has errors (all of them, sorted); paths are relative to the site folder.
    case invalidModel([Diagnostic])
    case templates(TemplateError)
    /// A model id would make a file name that is empty, hidden, or leaves its folder.
    case unsafePath(String)
    case duplicateOutput(String)
    /// The output folder holds files that no earlier `gatehouse build` wrote: refusing to clean it.
    case foreignOutput(String)
    /// Writing failed part way; files already replaced keep their new bytes (each one is whole).
    case output(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidModel(let diagnostics):
            return diagnostics.map(\.description).joined(separator: "\n")
        case .templates(let error):
            return error.description
        case .unsafePath(let path):
            return "error: cannot write '\(path)': a package, policy or language id makes an unsafe file name "
                + "(ids must not be empty, start with '.', or contain '/', '\\' or line breaks)"
        case .duplicateOutput(let path):
            return "error: two pages would be written to '\(path)'; package and policy ids must be unique"
        case .foreignOutput(let path):
            return "\(path): error: this folder is not empty and was not written by `gatehouse build` "
                + "(it has no \(OutputDirectory.manifestName)); empty it or choose another --out"
        case .output(let path, let message):
            return "\(path): error: \(message)"
        }
    }
}
